package web

import (
	"net/http"
	"net/url"
)

// adminPersonStatus serves POST /ui/admin/people/{id}/status: suspend
// (POST /v1/people/{id}/suspension, which ends their sessions), reinstate
// (DELETE …/suspension) or remove (DELETE /v1/people/{id}).
func (h *Handler) adminPersonStatus(w http.ResponseWriter, r *http.Request, id *Identity) {
	base := "/v1/people/" + url.PathEscape(r.PathValue("id"))
	var method, path, done string
	switch r.PostFormValue("action") {
	case "suspend":
		method, path, done = http.MethodPost, base+"/suspension", "suspended"
	case "reinstate":
		method, path, done = http.MethodDelete, base+"/suspension", "reinstated"
	case "remove":
		method, path, done = http.MethodDelete, base, "removed"
	default:
		http.Error(w, "未知的動作", http.StatusBadRequest)
		return
	}
	if p := h.call(r.Context(), id, method, path, nil, "", nil); p != nil {
		h.showPerson(w, r, id, p.Status, p)
		return
	}
	http.Redirect(w, r, "/ui/admin/people/"+url.PathEscape(r.PathValue("id"))+"?done="+done, http.StatusSeeOther)
}
