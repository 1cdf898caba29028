package web

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/projections"
	"cihui/internal/web/form"
)

type meetingList struct {
	Items []httpapi.MeetingView `json:"items"`
}

type meetingData struct {
	Docket    httpapi.Docket
	Committee bool
	Free      int
	Preview   []previewRow
	Key       string
}

// previewRow is one passed case in the close preview: admitted while
// places are free, in application order, else waiting (R-SOY-5).
type previewRow struct {
	projections.DocketEntry
	Admitted bool
}

func (h *Handler) meetings(w http.ResponseWriter, r *http.Request, id *Identity) {
	var l meetingList
	q := ""
	if at := r.URL.Query().Get("at"); at != "" {
		if _, err := strconv.ParseUint(at, 10, 64); err == nil {
			q = "?min_position=" + at
		}
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/meetings"+q, nil, "", &l); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "meetings.html", page{Title: "複審會議", Who: id, Data: l.Items, Flash: flash(r),
		Form: map[string]string{"idempotency_key": newKey(), "kind": "march"}})
}

func (h *Handler) scheduleMeeting(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	year, _ := strconv.Atoi(r.PostFormValue("academic_year"))
	body := httpapi.ScheduleRequest{AcademicYear: year, Kind: r.PostFormValue("kind"), Date: r.PostFormValue("date"), Title: r.PostFormValue("title")}
	var res app.Result
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/meetings", body, r.PostFormValue("idempotency_key"), &res); p != nil {
		var l meetingList
		_ = h.call(r.Context(), id, http.MethodGet, "/v1/meetings", nil, "", &l)
		h.render(w, p.Status, "meetings.html", page{Title: "複審會議", Who: id, Data: l.Items, Problem: p, Form: formMap(r)})
		return
	}
	http.Redirect(w, r, "/ui/meetings/"+url.PathEscape(res.ID)+"?done=scheduled&at="+strconv.FormatUint(res.Position, 10), http.StatusSeeOther)
}

func (h *Handler) loadMeeting(r *http.Request, id *Identity, at string) (meetingData, *httpapi.Problem) {
	d := meetingData{Committee: id.Actor.Role == domain.RoleCommittee, Key: newKey()}
	q := ""
	if _, err := strconv.ParseUint(at, 10, 64); err == nil {
		q = "?min_position=" + at
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/meetings/"+url.PathEscape(r.PathValue("id"))+"/docket"+q, nil, "", &d.Docket); p != nil {
		return d, p
	}
	var c httpapi.CapacityView
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/capacity", nil, "", &c); p != nil {
		return d, p
	}
	d.Free = c.Free
	var passed []projections.DocketEntry
	for _, e := range d.Docket.Cases {
		if e.Resolution != nil && (*e.Resolution == domain.ResolutionAdmit || *e.Resolution == domain.ResolutionWaitlist) {
			passed = append(passed, e)
		}
	}
	sort.Slice(passed, func(i, j int) bool { return passed[i].ApplicationPosition < passed[j].ApplicationPosition })
	free := d.Free
	for _, e := range passed {
		admit := *e.Resolution == domain.ResolutionAdmit && free > 0
		if admit {
			free--
		}
		d.Preview = append(d.Preview, previewRow{DocketEntry: e, Admitted: admit})
	}
	return d, nil
}

func (h *Handler) showMeeting(w http.ResponseWriter, r *http.Request, id *Identity) {
	d, p := h.loadMeeting(r, id, r.URL.Query().Get("at"))
	if p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "meeting.html", page{Title: "會議議程", Who: id, Data: d, Flash: flash(r)})
}

// meetingCommand posts one committee command and shows the meeting again.
func (h *Handler) meetingCommand(w http.ResponseWriter, r *http.Request, id *Identity, suffix string, body any, done, formName string) {
	mid := r.PathValue("id")
	var res app.Result
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/meetings/"+url.PathEscape(mid)+suffix, body, r.PostFormValue("idempotency_key"), &res); p != nil {
		d, lp := h.loadMeeting(r, id, "")
		if lp != nil {
			h.problemPage(w, id, p)
			return
		}
		f := formMap(r)
		f["form"] = formName
		h.render(w, p.Status, "meeting.html", page{Title: "會議議程", Who: id, Data: d, Problem: p, Form: f})
		return
	}
	http.Redirect(w, r, "/ui/meetings/"+url.PathEscape(mid)+"?done="+done+"&at="+strconv.FormatUint(res.Position, 10), http.StatusSeeOther)
}

func (h *Handler) openMeeting(w http.ResponseWriter, r *http.Request, id *Identity) {
	_ = r.ParseForm()
	h.meetingCommand(w, r, id, "/open", nil, "opened", "open")
}

func (h *Handler) resolve(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	h.meetingCommand(w, r, id, "/resolutions", form.Resolution(r.PostForm), "resolved", "res-"+r.PostFormValue("case_id"))
}

func (h *Handler) closeMeeting(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	h.meetingCommand(w, r, id, "/close", httpapi.CloseRequest{ReportingDate: r.PostFormValue("reporting_date")}, "closed", "close")
}
