package web

import (
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/app"
	"cihui/internal/httpapi"
)

// filedList is the body of GET /v1/filings/admitted.
type filedList struct {
	Items []struct {
		CaseID       string  `json:"case_id"`
		Alias        string  `json:"student_alias"`
		OriginSchool string  `json:"origin_school"`
		AcademicYear int     `json:"academic_year"`
		Route        string  `json:"route"`
		Stage        string  `json:"stage"`
		Meeting      *string `json:"meeting_id"`
		ReportBy     *string `json:"report_by"`
		Class        *string `json:"class"`
	} `json:"items"`
	Note string `json:"note"`
}

type filingsData struct {
	Year     string
	List     filedList
	Meetings []httpapi.MeetingView
	Key      string
}

// filings shows the list of admitted students filed with the bureau
// (R-SOY-7) and records that a meeting's list was filed
// (GET and POST /v1/filings/admitted).
func (h *Handler) filings(w http.ResponseWriter, r *http.Request, id *Identity) {
	year := r.URL.Query().Get("academic_year")
	if year == "" {
		year = strconv.Itoa(currentAcademicYear())
	}
	d, p := h.loadFilings(r, id, year, r.URL.Query().Get("at"))
	if p != nil && p.Status != http.StatusBadRequest {
		h.problemPage(w, id, p)
		return
	}
	status := http.StatusOK
	if p != nil {
		status = p.Status
	}
	h.render(w, status, "bureau_filings.html", page{Title: "錄取名冊備查", Who: id, Data: d, Problem: p, Flash: filedFlash(r),
		Form: map[string]string{"academic_year": year, "idempotency_key": d.Key}})
}

func (h *Handler) loadFilings(r *http.Request, id *Identity, year, at string) (filingsData, *httpapi.Problem) {
	d := filingsData{Year: year, Key: newKey()}
	wait := ""
	if _, err := strconv.ParseUint(at, 10, 64); err == nil {
		wait = "&min_position=" + at
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/filings/admitted?academic_year="+url.QueryEscape(year)+wait, nil, "", &d.List); p != nil {
		return d, p
	}
	var ms meetingList
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/meetings", nil, "", &ms); p != nil {
		return d, p
	}
	for _, m := range ms.Items {
		if m.Status == "closed" {
			d.Meetings = append(d.Meetings, m)
		}
	}
	return d, nil
}

func (h *Handler) fileAdmitted(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	year := r.PostFormValue("academic_year")
	body := httpapi.FilingRequest{MeetingID: r.PostFormValue("meeting_id"), On: r.PostFormValue("on")}
	var res app.Result
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/filings/admitted", body, r.PostFormValue("idempotency_key"), &res); p != nil {
		d, lp := h.loadFilings(r, id, year, "")
		if lp != nil {
			h.problemPage(w, id, p)
			return
		}
		h.render(w, p.Status, "bureau_filings.html", page{Title: "錄取名冊備查", Who: id, Data: d, Problem: p, Form: formMap(r)})
		return
	}
	http.Redirect(w, r, "/ui/filings?"+url.Values{"academic_year": {year}, "done": {"list_filed"}, "at": {strconv.FormatUint(res.Position, 10)}}.Encode(), http.StatusSeeOther)
}

func filedFlash(r *http.Request) string {
	if r.URL.Query().Get("done") == "list_filed" {
		return "已登錄：錄取名冊已報教育局備查。"
	}
	return ""
}
