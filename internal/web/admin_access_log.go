package web

import (
	"net/http"
	"net/url"

	"cihui/internal/httpapi"
)

// adminAccessLog serves GET /ui/admin/access-log: who read a student's
// personal data, filtered by case, person and period (GET
// /v1/access-log), a page of 100 at a time.
func (h *Handler) adminAccessLog(w http.ResponseWriter, r *http.Request, id *Identity) {
	in := r.URL.Query()
	q := url.Values{}
	form := map[string]string{}
	for _, k := range []string{"case", "actor", "from", "to", "cursor"} {
		if v := in.Get(k); v != "" {
			q.Set(k, v)
			form[k] = v
		}
	}
	path := "/v1/access-log"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var res httpapi.AccessLogPage
	status, p, ok := h.getForForm(w, r, id, path, &res)
	if !ok {
		return
	}
	next := ""
	if res.NextCursor != "" {
		q.Set("cursor", res.NextCursor)
		next = "/ui/admin/access-log?" + q.Encode()
	}
	h.render(w, status, "admin_access_log.html", page{Title: "個資查閱紀錄", Who: id, Problem: p, Form: form,
		Data: accessLogData{Items: res, Next: next}})
}

type accessLogData struct {
	Items httpapi.AccessLogPage
	Next  string
}
