package web

import (
	"net/http"
	"net/url"

	"cihui/internal/web/form"
)

// returnedDropout records the return to school (復學): POST …/dropouts/{n}/returned.
func (h *Handler) returnedDropout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDropouts, "/dropouts/"+url.PathEscape(r.PathValue("n"))+"/returned", form.Returned(r.PostForm))
	}
}
