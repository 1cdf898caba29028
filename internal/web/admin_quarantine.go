package web

import (
	"encoding/json"
	"io"
	"net/http"

	"cihui/internal/httpapi"
)

// adminQuarantine serves GET /ui/admin/quarantine: how many events the
// projector has quarantined or holds back, as /readyz reports them. The
// API has no route to list or retry them yet; the page says how the
// operator retries them (projector retry).
func (h *Handler) adminQuarantine(w http.ResponseWriter, r *http.Request, id *Identity) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/readyz", http.NoBody)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	res := h.serveAPI(req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var d httpapi.Readiness
	if err := json.Unmarshal(body, &d); err != nil {
		h.problemPage(w, id, problemOf(res.StatusCode, body))
		return
	}
	h.render(w, http.StatusOK, "admin_quarantine.html", page{Title: "隔離事件", Who: id, Data: d})
}
