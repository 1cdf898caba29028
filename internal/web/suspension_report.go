package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// suspensionReport sends the evaluation report: POST …/suspension/report (R-SUS-2; both visits first).
func (h *Handler) suspensionReport(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subSuspension, "/suspension/report", form.SuspensionReport(r.PostForm))
	}
}
