package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// caseData is the case page.
type caseData struct {
	Case       httpapi.ReferralView
	Timeline   httpapi.Timeline
	School     bool // the origin school: hand in documents
	Worker     bool // a social worker: check, visit, review
	ReviewKey  string
	CanReview  bool
	Reviewable []string
}

// loadCase reads a case and its timeline, waiting for the position a
// command just wrote (read-your-writes) when the query carries one.
func (h *Handler) loadCase(ctx context.Context, id *Identity, caseID, at string) (caseData, *httpapi.Problem) {
	q := ""
	if _, err := strconv.ParseUint(at, 10, 64); err == nil {
		q = "?min_position=" + at
	}
	d := caseData{School: id.Actor.Role == domain.RoleOriginSchool, Worker: id.Actor.Role == domain.RoleSocialWorker}
	path := "/v1/referrals/" + url.PathEscape(caseID)
	if p := h.call(ctx, id, http.MethodGet, path+q, nil, "", &d.Case); p != nil {
		return d, p
	}
	if p := h.call(ctx, id, http.MethodGet, path+"/events", nil, "", &d.Timeline); p != nil {
		return d, p
	}
	d.CanReview = d.Worker && d.Case.Stage == string(domain.StageIntake) && d.Case.FirstReview == nil
	d.ReviewKey = newKey()
	return d, nil
}

func (h *Handler) showCase(w http.ResponseWriter, r *http.Request, id *Identity) {
	d, p := h.loadCase(r.Context(), id, r.PathValue("id"), r.URL.Query().Get("at"))
	if p != nil {
		h.problemPage(w, id, p)
		return
	}
	pg := page{Title: "個案", Who: id, Data: d, Flash: flash(r)}
	if r.URL.Query().Get("done") == "visit" {
		pg.ClearKey = "visit-" + d.Case.ID
	}
	h.render(w, http.StatusOK, "case.html", pg)
}

// caseProblem shows the case page again with a refused form's problem.
func (h *Handler) caseProblem(w http.ResponseWriter, r *http.Request, id *Identity, p *httpapi.Problem, formName string) {
	d, lp := h.loadCase(r.Context(), id, r.PathValue("id"), "")
	if lp != nil {
		h.problemPage(w, id, p)
		return
	}
	f := formMap(r)
	f["form"] = formName
	h.render(w, p.Status, "case.html", page{Title: "個案", Who: id, Data: d, Problem: p, Form: f})
}

func redirectCase(w http.ResponseWriter, r *http.Request, caseID, done string, pos uint64) {
	http.Redirect(w, r, "/ui/cases/"+url.PathEscape(caseID)+"?done="+done+"&at="+strconv.FormatUint(pos, 10), http.StatusSeeOther)
}
