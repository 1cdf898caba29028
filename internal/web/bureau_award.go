package web

import (
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/projections"
)

type awardData struct {
	Year     string
	Evidence projections.AwardEvidence
}

// awardEvidence shows the award evidence pack of an academic year
// (GET /v1/award/evidence, R-AWD-1): counts with the cases and meetings
// behind them, no personal data.
func (h *Handler) awardEvidence(w http.ResponseWriter, r *http.Request, id *Identity) {
	d := awardData{Year: r.URL.Query().Get("academic_year")}
	if d.Year == "" {
		d.Year = strconv.Itoa(currentAcademicYear())
	}
	v := url.Values{"academic_year": {d.Year}}
	if on := r.URL.Query().Get("as_of"); on != "" {
		v.Set("as_of", on)
	}
	form := map[string]string{"academic_year": d.Year, "as_of": r.URL.Query().Get("as_of")}
	p := h.call(r.Context(), id, http.MethodGet, "/v1/award/evidence?"+v.Encode(), nil, "", &d.Evidence)
	if p != nil && p.Status != http.StatusBadRequest {
		h.problemPage(w, id, p)
		return
	}
	status := http.StatusOK
	if p != nil {
		status = p.Status
	}
	h.render(w, status, "bureau_award.html", page{Title: "績優評選佐證資料", Who: id, Data: d, Problem: p, Form: form})
}
