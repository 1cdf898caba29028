package web

import (
	"net/http"

	"cihui/internal/web/form"
)

// accompaniment records that the origin school accompanied the student reporting: POST …/accompaniment (R-ORG-2).
func (h *Handler) accompaniment(w http.ResponseWriter, r *http.Request, id *Identity) {
	if parsed(w, r) {
		h.postSub(w, r, id, subDuties, "/accompaniment", form.Accompaniment(r.PostForm))
	}
}
