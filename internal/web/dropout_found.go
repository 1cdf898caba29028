package web

import (
	"net/http"
	"net/url"

	"cihui/internal/web/form"
)

// foundDropout records that a whereabouts-unknown student was found: POST …/dropouts/{n}/found (R-SUS-1 (4), (5)).
func (h *Handler) foundDropout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDropouts, "/dropouts/"+url.PathEscape(r.PathValue("n"))+"/found", form.Found(r.PostForm))
	}
}
