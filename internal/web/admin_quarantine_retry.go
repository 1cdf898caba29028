package web

import (
	"net/http"
)

// adminQuarantineRetry serves POST /ui/admin/quarantine/retry: with a
// position, that quarantined event (POST
// /v1/projections/quarantine/{position}/retry), else every one (POST
// /v1/projections/quarantine/retry). The API marks them; the projector
// retries them within seconds.
func (h *Handler) adminQuarantineRetry(w http.ResponseWriter, r *http.Request, id *Identity) {
	path := "/v1/projections/quarantine/retry"
	if pos := r.PostFormValue("position"); pos != "" {
		if !isDigits(pos) {
			http.Error(w, "位置須為數字", http.StatusBadRequest)
			return
		}
		path = "/v1/projections/quarantine/" + pos + "/retry"
	}
	if p := h.call(r.Context(), id, http.MethodPost, path, nil, "", nil); p != nil {
		h.showQuarantine(w, r, id, p.Status, p)
		return
	}
	http.Redirect(w, r, "/ui/admin/quarantine?done=retry", http.StatusSeeOther)
}
