package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// openDropout opens a dropout episode (中輟) of an enrolled student: POST /v1/referrals/{id}/dropouts (R-ORG-4).
func (h *Handler) openDropout(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDropouts, "/dropouts", form.Dropout(r.PostForm))
	}
}
