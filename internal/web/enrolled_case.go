package web

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/projections"
)

// The case's enrolled-life sub-pages (中輟, 中止就讀, 在學事務): each reads
// the case as the API shows it to the person, and each of its forms posts
// one API command with the Idempotency-Key made when the form was
// rendered, so a double submit records once.

// caseSub is one sub-page of a case.
type caseSub struct{ name, title, template string }

var (
	subDropouts   = caseSub{"dropouts", "中輟追蹤", "enrolled_dropouts.html"}
	subSuspension = caseSub{"suspension", "中止就讀事由與程序", "enrolled_suspension.html"}
	subDuties     = caseSub{"duties", "在學事務", "enrolled_duties.html"}
)

// enrolledData is what a sub-page shows.
type enrolledData struct {
	Case   httpapi.ReferralView
	Worker bool // a social worker: the branch school's forms
	School bool // the origin school: its own forms
	// Today is the API's day, as the case's grounds are counted (an
	// enrolled student's), for the dates the forms propose.
	Today string
	// OpenEpisode is the episode still open, if any (one at a time,
	// R-ORG-4).
	OpenEpisode *httpapi.DropoutView
	// Duties are what the person's party still owes for this case (the
	// 在學事務 page), each linking to its form.
	Duties []projections.Duty
}

// loadEnrolled reads the case, waiting for the position a command just
// wrote (read-your-writes) when the query carries one.
func (h *Handler) loadEnrolled(r *http.Request, id *Identity, sub caseSub) (enrolledData, *httpapi.Problem) {
	d := enrolledData{Worker: id.Actor.Role == domain.RoleSocialWorker, School: id.Actor.Role == domain.RoleOriginSchool}
	path := "/v1/referrals/" + url.PathEscape(r.PathValue("id"))
	wait := "" // read-your-writes: "&min_position=…"
	if at := r.URL.Query().Get("at"); at != "" {
		if _, err := strconv.ParseUint(at, 10, 64); err == nil {
			path += "?min_position=" + at
			wait = "&min_position=" + at
		}
	}
	if p := h.call(r.Context(), id, http.MethodGet, path, nil, "", &d.Case); p != nil {
		return d, p
	}
	if g := d.Case.SuspensionGrounds; g != nil {
		d.Today = g.AsOf
	}
	for i := range d.Case.Dropouts {
		if d.Case.Dropouts[i].Open {
			d.OpenEpisode = &d.Case.Dropouts[i]
		}
	}
	if sub == subDuties && (d.Worker || d.School) {
		party := domain.PartyOriginSchool
		if d.Worker {
			party = domain.PartyBranch
		}
		var l httpapi.DutyList
		if p := h.call(r.Context(), id, http.MethodGet, "/v1/duties?limit=500&party="+party+wait, nil, "", &l); p != nil {
			return d, p
		}
		for _, du := range l.Items {
			if du.CaseID == d.Case.ID {
				d.Duties = append(d.Duties, du)
			}
		}
	}
	return d, nil
}

// showSub renders a sub-page; ?semester= and ?result= preselect the form a
// duty links to.
func (h *Handler) showSub(sub caseSub) func(http.ResponseWriter, *http.Request, *Identity) {
	return func(w http.ResponseWriter, r *http.Request, id *Identity) {
		d, p := h.loadEnrolled(r, id, sub)
		if p != nil {
			h.problemPage(w, id, p)
			return
		}
		q := r.URL.Query()
		f := map[string]string{}
		for _, k := range []string{"semester", "result"} {
			if v := q.Get(k); v != "" {
				f[k] = v
			}
		}
		h.render(w, http.StatusOK, sub.template, page{Title: sub.title, Who: id, Data: d, Form: f, Flash: enrolledFlash(r)})
	}
}

// postSub posts one form of a sub-page as the API command at apiPath. A
// refusal shows the page again with the API's problem beside the form
// (named by the form's hidden "form" field); a success goes back to the
// page at the form, reading what was written.
func (h *Handler) postSub(w http.ResponseWriter, r *http.Request, id *Identity, sub caseSub, apiPath string, body any) {
	caseID := r.PathValue("id")
	var res app.Result
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/referrals/"+url.PathEscape(caseID)+apiPath, body, r.PostFormValue("idempotency_key"), &res); p != nil {
		h.subProblem(w, r, id, sub, p)
		return
	}
	http.Redirect(w, r, "/ui/cases/"+url.PathEscape(caseID)+"/"+sub.name+"?done="+url.QueryEscape(r.PostFormValue("form"))+
		"&at="+strconv.FormatUint(res.Position, 10)+"#"+url.PathEscape(r.PostFormValue("form")), http.StatusSeeOther)
}

// subProblem shows a sub-page again with a refused form's problem; a
// problem about the case itself (not found, not in scope) is its own page.
func (h *Handler) subProblem(w http.ResponseWriter, r *http.Request, id *Identity, sub caseSub, p *httpapi.Problem) {
	d, lp := h.loadEnrolled(r, id, sub)
	if lp != nil {
		h.problemPage(w, id, p)
		return
	}
	pg := page{Title: sub.title, Who: id, Data: d, Problem: p, Form: formMap(r)}
	if !h.showsForm(sub.template, pg) {
		delete(pg.Form, "form") // the form is gone (say, the episode closed meanwhile): the problem heads the page
	}
	h.render(w, p.Status, sub.template, pg)
}

// showsForm reports whether the page, as it now stands, still has the form
// the problem answers, to show it beside.
func (h *Handler) showsForm(name string, pg page) bool {
	t, ok := h.pages[name]
	if !ok {
		return false
	}
	pg.Errors = pg.Problem.Errors
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pg); err != nil {
		return false
	}
	return bytes.Contains(buf.Bytes(), []byte(`name="form" value="`+template.HTMLEscapeString(pg.Form["form"])+`"`))
}

// parsed parses a sub-page's form post; false: the answer is sent.
func parsed(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return false
	}
	return true
}

// enrolledFlash is the note after a sub-page's form was recorded.
func enrolledFlash(r *http.Request) string {
	done := r.URL.Query().Get("done")
	if i := strings.LastIndexByte(done, '-'); i > 0 && strings.Trim(done[i+1:], "0123456789") == "" {
		done = done[:i] // an episode's form: "follow-up-2"
	}
	if s, ok := enrolledFlashes[done]; ok {
		return s
	}
	return flash(r)
}

var enrolledFlashes = map[string]string{
	"dropout-open": "中輟已開案，已函知原就讀學校。", "reported": "中輟通報已登錄。", "follow-up": "追蹤紀錄已登錄。",
	"found": "尋獲日期已登錄。", "returned": "復學日期已登錄。", "dropout-close": "中輟已結案。",
	"ground": "中止就讀事由已登錄。", "suspension-open": "中止就讀程序已開始。", "suspension-visit": "訪視已登錄。",
	"suspension-report": "評估報告已送出，已函知原就讀學校。", "adaptation": "就讀輔導會議已登錄。",
	"registration": "註冊已登錄。", "records": "學期紀錄寄送已登錄。", "notice": "通知網絡單位已登錄。",
	"accompaniment": "陪同報到已登錄。", "leave": "協助離校已登錄。", "co-counselling": "協同輔導已登錄。",
}
