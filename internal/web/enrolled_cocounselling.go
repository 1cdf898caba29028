package web

import (
	"net/http"

	"cihui/internal/app"
	"cihui/internal/httpapi"
	"cihui/internal/web/form"
)

// The origin school's monthly visit to the branch to co-counsel its
// enrolled students (R-ORG-5): POST /v1/co-counselling-visits.

func (h *Handler) loadEnrolledStudents(r *http.Request, id *Identity) ([]httpapi.ReferralView, *httpapi.Problem) {
	var l httpapi.ReferralList
	p := h.call(r.Context(), id, http.MethodGet, "/v1/referrals?status=enrolled&limit=200", nil, "", &l)
	return l.Items, p
}

func (h *Handler) showCoCounselling(w http.ResponseWriter, r *http.Request, id *Identity) {
	l, p := h.loadEnrolledStudents(r, id)
	if p != nil {
		h.problemPage(w, id, p)
		return
	}
	flash := ""
	if r.URL.Query().Get("done") == "co-counselling" {
		flash = enrolledFlashes["co-counselling"]
	}
	h.render(w, http.StatusOK, "enrolled_cocounselling.html", page{Title: "協同輔導", Who: id, Data: l, Flash: flash})
}

func (h *Handler) coCounselling(w http.ResponseWriter, r *http.Request, id *Identity) {
	if !parsed(w, r) {
		return
	}
	var res app.Result
	p := h.call(r.Context(), id, http.MethodPost, "/v1/co-counselling-visits", form.CoCounselling(r.PostForm), r.PostFormValue("idempotency_key"), &res)
	if p == nil {
		http.Redirect(w, r, "/ui/co-counselling?done=co-counselling", http.StatusSeeOther)
		return
	}
	l, lp := h.loadEnrolledStudents(r, id)
	if lp != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, p.Status, "enrolled_cocounselling.html", page{Title: "協同輔導", Who: id, Data: l, Problem: p, Form: formMap(r)})
}
