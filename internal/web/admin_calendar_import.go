package web

import (
	"io"
	"net/http"
	"strconv"

	"cihui/internal/app"
	"cihui/internal/httpapi"
)

// maxCalendarFile bounds an uploaded calendar file, as the API bounds a
// request body (1 MB).
const maxCalendarFile = 1 << 20

// adminCalendarImport serves POST /ui/admin/calendar: the uploaded file
// goes as it is (UTF-8 with BOM or Big5 CSV) to PUT /v1/calendar/{year}.
func (h *Handler) adminCalendarImport(w http.ResponseWriter, r *http.Request, id *Identity) {
	year := r.PostFormValue("year")
	fail := func(p *httpapi.Problem) {
		form := formMap(r)
		form["idempotency_key"] = newKey()
		h.render(w, p.Status, "admin_calendar.html", page{Title: "行事曆匯入", Who: id, Problem: p, Form: form})
	}
	if _, err := strconv.Atoi(year); err != nil {
		fail(&httpapi.Problem{Status: http.StatusBadRequest, Code: "invalid", Errors: map[string]string{"year": "must be an AD year such as 2026"}})
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		fail(&httpapi.Problem{Status: http.StatusBadRequest, Code: "invalid", Errors: map[string]string{"file": "a calendar file is required"}})
		return
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, maxCalendarFile+1))
	if err != nil || len(body) > maxCalendarFile {
		fail(&httpapi.Problem{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Errors: map[string]string{"file": "at most 1 MB"}})
		return
	}
	var res app.Result
	if p := h.callRaw(r.Context(), id, http.MethodPut, "/v1/calendar/"+year, "text/csv", body, r.PostFormValue("idempotency_key"), &res); p != nil {
		fail(p)
		return
	}
	http.Redirect(w, r, "/ui/admin/calendar?done=calendar&year="+year, http.StatusSeeOther)
}
