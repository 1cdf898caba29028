package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// networkNotice records that the origin school informed the network units of a result: POST …/network-notices (R-SOY-7, R-MID-5, R-SUS-4).
func (h *Handler) networkNotice(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDuties, "/network-notices", form.NetworkNotice(r.PostForm))
	}
}
