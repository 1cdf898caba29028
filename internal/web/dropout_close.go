package web

import (
	"net/http"
	"net/url"

	"cihui/internal/web/form"
)

// closeDropout closes an episode: POST …/dropouts/{n}/close (R-ORG-4).
func (h *Handler) closeDropout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDropouts, "/dropouts/"+url.PathEscape(r.PathValue("n"))+"/close", form.DropoutClose(r.PostForm))
	}
}
