package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// suspensionVisit logs the home or origin-school visit of the procedure: POST …/suspension/visits (R-SUS-2).
func (h *Handler) suspensionVisit(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subSuspension, "/suspension/visits", form.SuspensionVisit(r.PostForm))
	}
}
