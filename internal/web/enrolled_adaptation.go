package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// adaptationMeeting records an adaptation meeting: POST …/adaptation-meetings (R-ENR-4; propose_end opens the procedure).
func (h *Handler) adaptationMeeting(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subSuspension, "/adaptation-meetings", form.Adaptation(r.PostForm))
	}
}
