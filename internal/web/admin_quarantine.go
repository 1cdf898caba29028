package web

import (
	"encoding/json"
	"io"
	"net/http"

	"cihui/internal/httpapi"
	"cihui/internal/projections"
)

type quarantineData struct {
	httpapi.Readiness
	Items []quarantineRow
}

// quarantineRow is a quarantined event as the page shows it.
type quarantineRow struct {
	projections.QuarantinedEvent
	Class, When, Retried string
}

// adminQuarantine serves GET /ui/admin/quarantine: the events the
// projector has quarantined (GET /v1/projections/quarantine) and how far
// the read models are (/readyz), with the forms to retry one or all.
func (h *Handler) adminQuarantine(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.showQuarantine(w, r, id, http.StatusOK, nil)
}

func (h *Handler) showQuarantine(w http.ResponseWriter, r *http.Request, id *Identity, status int, prob *httpapi.Problem) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/readyz", http.NoBody)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	res := h.serveAPI(req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var d quarantineData
	if err := json.Unmarshal(body, &d.Readiness); err != nil {
		h.problemPage(w, id, problemOf(res.StatusCode, body))
		return
	}
	var list struct {
		Items []projections.QuarantinedEvent `json:"items"`
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/projections/quarantine", nil, "", &list); p != nil {
		h.problemPage(w, id, p)
		return
	}
	for _, q := range list.Items {
		row := quarantineRow{QuarantinedEvent: q, Class: errorClassName(q.ErrorClass), When: rocTime(q.QuarantinedAt)}
		if q.RetriedAt != nil {
			row.Retried = rocTime(*q.RetriedAt)
		}
		d.Items = append(d.Items, row)
	}
	h.render(w, status, "admin_quarantine.html", page{Title: "隔離事件", Who: id, Data: d, Flash: adminFlash(r), Problem: prob})
}

// errorClassName names an error class of the quarantine.
func errorClassName(c string) string {
	switch c {
	case "integrity_constraint_violation":
		return "違反資料表限制"
	case "data_exception":
		return "資料格式錯誤"
	case "syntax_error_or_access_rule_violation":
		return "資料表結構不符"
	case "panic":
		return "程式錯誤"
	case "decode":
		return "事件無法解讀"
	case "apply":
		return "套用失敗"
	}
	return "其他錯誤"
}
