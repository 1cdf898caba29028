package web

import (
	"net/http"
	"strconv"
	"time"

	"cihui/internal/domain"
)

// adminCalendar serves GET /ui/admin/calendar: the form to import a
// year's official office calendar as published.
func (h *Handler) adminCalendar(w http.ResponseWriter, r *http.Request, id *Identity) {
	next := strconv.Itoa(time.Now().In(domain.Taipei).Year() + 1)
	h.render(w, http.StatusOK, "admin_calendar.html", page{Title: "行事曆匯入", Who: id, Flash: adminFlash(r), Form: map[string]string{"year": next, "idempotency_key": newKey()}})
}
