package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// recordsSent records a semester's records sent to the origin school: POST …/records-sent (R-ENR-2).
func (h *Handler) recordsSent(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDuties, "/records-sent", form.RecordsSent(r.PostForm))
	}
}
