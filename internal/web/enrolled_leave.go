package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// leaveAssistance records that the origin school helped a suspended student leave: POST …/leave-assistance (R-ORG-6).
func (h *Handler) leaveAssistance(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDuties, "/leave-assistance", form.DoneOn(r.PostForm))
	}
}
