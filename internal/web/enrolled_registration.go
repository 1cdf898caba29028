package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// registerSemester records a semester's registration at the origin school: POST …/registrations (R-ENR-2).
func (h *Handler) registerSemester(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDuties, "/registrations", form.Registration(r.PostForm))
	}
}
