package web

import (
	"net/http"
	"net/url"

	"cihui/internal/app"
	"cihui/internal/web/form"
)

type visitData struct {
	CaseID string
	Key    string
	Today  string
}

// showVisit is the phone-sized visit form. Its Idempotency-Key is made
// here, once per form: a retry of the same form (the browser's, or the
// draft the script keeps on the device) records the visit once.
func (h *Handler) showVisit(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.render(w, http.StatusOK, "visit.html", page{Title: "登錄訪視", Who: id,
		Data: visitData{CaseID: r.PathValue("id")}, Form: map[string]string{"idempotency_key": newKey(), "kind": "visit"}})
}

// logVisit posts POST /v1/referrals/{id}/home-visits with the form's key.
func (h *Handler) logVisit(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	caseID := r.PathValue("id")
	var res app.Result
	path := "/v1/referrals/" + url.PathEscape(caseID) + "/home-visits"
	if p := h.call(r.Context(), id, http.MethodPost, path, form.Visit(r.PostForm), r.PostFormValue("idempotency_key"), &res); p != nil {
		h.render(w, p.Status, "visit.html", page{Title: "登錄訪視", Who: id, Problem: p, Data: visitData{CaseID: caseID}, Form: formMap(r)})
		return
	}
	redirectCase(w, r, caseID, "visit", res.Position)
}

// firstReview posts POST /v1/referrals/{id}/first-review.
func (h *Handler) firstReview(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	caseID := r.PathValue("id")
	var res app.Result
	path := "/v1/referrals/" + url.PathEscape(caseID) + "/first-review"
	if p := h.call(r.Context(), id, http.MethodPost, path, form.Review(r.PostForm), r.PostFormValue("idempotency_key"), &res); p != nil {
		h.caseProblem(w, r, id, p, "review")
		return
	}
	redirectCase(w, r, caseID, "review", res.Position)
}
