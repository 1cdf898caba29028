package web

import (
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/app"
	"cihui/internal/httpapi"
)

// adminLegalHold serves POST /ui/admin/retention/{id}/hold: place a legal
// hold on a case (POST /v1/referrals/{id}/legal-hold, the note sealed),
// or with action=lift lift it (DELETE …/legal-hold).
func (h *Handler) adminLegalHold(w http.ResponseWriter, r *http.Request, id *Identity) {
	path := "/v1/referrals/" + url.PathEscape(r.PathValue("id")) + "/legal-hold"
	var res app.Result
	var p *httpapi.Problem
	done := "hold"
	if r.PostFormValue("action") == "lift" {
		p, done = h.call(r.Context(), id, http.MethodDelete, path, nil, r.PostFormValue("idempotency_key"), &res), "lifted"
	} else {
		body := httpapi.LegalHoldRequest{Reason: r.PostFormValue("reason"), Note: r.PostFormValue("note")}
		p = h.call(r.Context(), id, http.MethodPost, path, body, r.PostFormValue("idempotency_key"), &res)
	}
	if p != nil {
		h.showRetention(w, r, id, p.Status, p)
		return
	}
	http.Redirect(w, r, "/ui/admin/retention?done="+done+"&at="+strconv.FormatUint(res.Position, 10), http.StatusSeeOther)
}
