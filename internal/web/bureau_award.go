package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/projections"
)

type awardData struct {
	Year     string
	Evidence projections.AwardEvidence
	Criteria []awardCriterion
}

type awardCriterion struct {
	Code, Name string
	Weight     int
	Items      []awardItem
	Rates      []statCellLabelled
	NoEvidence string
}

type awardItem struct {
	Label    string
	Count    int
	Cases    []caseLink
	Meetings []caseLink
}

type statCellLabelled struct {
	statCell
	Label string
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
	status, p, ok := h.getForForm(w, r, id, "/v1/award/evidence?"+v.Encode(), &d.Evidence)
	if !ok {
		return
	}
	if p == nil {
		d.fill()
	}
	h.render(w, status, "bureau_award.html", page{Title: "績優評選佐證資料", Who: id, Data: d, Problem: p, Form: form})
}

func (d *awardData) fill() {
	for _, c := range d.Evidence.Criteria {
		ac := awardCriterion{Code: c.Code, Name: c.Name, Weight: c.Weight, NoEvidence: c.NoEvidence}
		for _, it := range c.Items {
			ai := awardItem{Label: it.Label, Count: it.Count}
			for _, id := range it.CaseIDs {
				ai.Cases = append(ai.Cases, caseLink{ID: id, Alias: domain.Alias(id)})
			}
			for _, id := range it.MeetingIDs {
				ai.Meetings = append(ai.Meetings, caseLink{ID: id, Alias: "會議 " + domain.Alias(id)[len("個案 "):]})
			}
			ac.Items = append(ac.Items, ai)
		}
		for _, code := range slices.Sorted(func(yield func(string) bool) {
			for k := range c.Rates {
				if !yield(k) {
					return
				}
			}
		}) {
			text, title := rateText(c.Rates[code])
			ac.Rates = append(ac.Rates, statCellLabelled{statCell: statCell{Code: code, Text: text, Title: title}, Label: httpapi.StatFigureLabels[code]})
		}
		d.Criteria = append(d.Criteria, ac)
	}
}
