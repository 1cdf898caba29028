package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// recordGround records a ground (1), (2), (3) or (6) with its evidence: POST …/grounds (R-SUS-1).
func (h *Handler) recordGround(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subSuspension, "/grounds", form.Ground(r.PostForm))
	}
}
