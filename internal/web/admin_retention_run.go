package web

import (
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/app"
)

// adminRetentionRun serves POST /ui/admin/retention/run: the retention job
// runs once now (POST /v1/retention/runs; idempotent, 409 while a run is
// in progress) and the page says what it did, in counts.
func (h *Handler) adminRetentionRun(w http.ResponseWriter, r *http.Request, id *Identity) {
	var rep app.RetentionReport
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/retention/runs", nil, "", &rep); p != nil {
		h.showRetention(w, r, id, p.Status, p)
		return
	}
	q := url.Values{"done": {"run"}, "due": {strconv.Itoa(rep.PeopleDue)}, "erased": {strconv.Itoa(rep.PeopleErased)},
		"held": {strconv.Itoa(rep.CasesOnHold)}, "failed": {strconv.Itoa(rep.Failed)}}
	http.Redirect(w, r, "/ui/admin/retention?"+q.Encode(), http.StatusSeeOther)
}

// retentionRunFlash is the message after a run (?done=run): its counts.
func retentionRunFlash(r *http.Request) string {
	q := r.URL.Query()
	n := func(k string) string {
		if v := q.Get(k); isDigits(v) {
			return v
		}
		return "0"
	}
	s := "已執行保存期限清除：應清除 " + n("due") + " 人，已清除 " + n("erased") + " 人；法律保全中的個案 " + n("held") + " 件。"
	if f := n("failed"); f != "0" {
		s += "另有 " + f + " 人清除失敗，下次執行時會再試。"
	}
	return s
}
