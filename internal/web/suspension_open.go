package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// openSuspension opens the 中止就讀 procedure with its grounds: POST …/suspension (R-SUS-2).
func (h *Handler) openSuspension(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subSuspension, "/suspension", form.Suspension(r.PostForm))
	}
}
