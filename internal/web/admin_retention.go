package web

import (
	"net/http"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

type retentionData struct {
	Items   []httpapi.RetentionDue `json:"items"`
	Today   string                 `json:"today"`
	Reasons []string               `json:"-"`
}

// adminRetention serves GET /ui/admin/retention: the cases past their
// ten-year retention (GET /v1/retention/due), with the legal holds that
// defer an erasure.
func (h *Handler) adminRetention(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.showRetention(w, r, id, http.StatusOK, nil)
}

func (h *Handler) showRetention(w http.ResponseWriter, r *http.Request, id *Identity, status int, prob *httpapi.Problem) {
	d := retentionData{Reasons: domain.HoldReasons}
	path := "/v1/retention/due"
	if at := r.URL.Query().Get("at"); at != "" && isDigits(at) {
		path += "?min_position=" + at
	}
	if p := h.call(r.Context(), id, http.MethodGet, path, nil, "", &d); p != nil {
		h.problemPage(w, id, p)
		return
	}
	flash := adminFlash(r)
	if r.URL.Query().Get("done") == "run" {
		flash = retentionRunFlash(r) // admin_retention_run.go
	}
	h.render(w, status, "admin_retention.html", page{Title: "保存期限", Who: id, Data: d, Flash: flash, Problem: prob,
		Form: map[string]string{"idempotency_key": newKey()}})
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// holdReason names a legal hold's reason.
func holdReason(s string) string {
	switch s {
	case "litigation":
		return "訴訟"
	case "investigation":
		return "調查"
	case "audit":
		return "稽核"
	case "data_subject_dispute":
		return "當事人爭議"
	case "other":
		return "其他"
	}
	return s
}
