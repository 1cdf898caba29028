package web

import (
	"net/http"
	"strconv"

	"cihui/internal/app"
	"cihui/internal/web/form"
)

func (h *Handler) showNewReferral(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.render(w, http.StatusOK, "referral_new.html", page{Title: "提出轉介", Who: id,
		Form: map[string]string{"route": "mid_year", "channel": "direct", "idempotency_key": newKey()}})
}

// fileReferral posts the form to POST /v1/referrals; a refusal comes back
// as the API's problem, shown beside the fields.
func (h *Handler) fileReferral(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	var res app.Result
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/referrals", form.Referral(r.PostForm), r.PostFormValue("idempotency_key"), &res); p != nil {
		h.render(w, p.Status, "referral_new.html", page{Title: "提出轉介", Who: id, Problem: p, Form: formMap(r)})
		return
	}
	http.Redirect(w, r, "/ui/cases/"+res.ID+"?done=filed&at="+strconv.FormatUint(res.Position, 10), http.StatusSeeOther)
}
