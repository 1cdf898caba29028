package web

import (
	"net/http"
	"net/url"

	"cihui/internal/web/form"
)

// followUpDropout logs a follow-up, search or counselling by either school: POST …/dropouts/{n}/follow-ups (R-ORG-4).
func (h *Handler) followUpDropout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDropouts, "/dropouts/"+url.PathEscape(r.PathValue("n"))+"/follow-ups", form.FollowUp(r.PostForm))
	}
}
