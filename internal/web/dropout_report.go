package web

import (
	"net/http"
	"net/url"

	"cihui/internal/web/form"
)

// reportDropout records the origin school's national dropout report: POST …/dropouts/{n}/reported (R-ORG-4).
func (h *Handler) reportDropout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDropouts, "/dropouts/"+url.PathEscape(r.PathValue("n"))+"/reported", form.DropoutReported(r.PostForm))
	}
}
