package web

import (
	"net/http"
	"net/url"

	"cihui/internal/httpapi"
)

// suspensionGrounds lists the enrolled students with a ground of R-SUS-1
// on a date (GET /v1/suspension-grounds?as_of=, default today): (4) and
// (5) detected from the episodes' dates, the others as recorded by then.
func (h *Handler) suspensionGrounds(w http.ResponseWriter, r *http.Request, id *Identity) {
	asOf := r.URL.Query().Get("as_of")
	path := "/v1/suspension-grounds"
	if asOf != "" {
		path += "?as_of=" + url.QueryEscape(asOf)
	}
	var l httpapi.GroundsList
	status, p, ok := h.getForForm(w, r, id, path, &l)
	if !ok {
		return
	}
	h.render(w, status, "suspension_grounds.html", page{Title: "中止就讀事由（依日期）", Who: id, Data: l, Problem: p,
		Form: map[string]string{"as_of": asOf}})
}
