package web

import (
	"net/http"
	"net/url"

	"cihui/internal/httpapi"
)

// adminPersonPassword serves POST /ui/admin/people/{id}/password-reset:
// the person gets a temporary password (POST
// /v1/people/{id}/password-reset), which this answer shows the admin once
// (not stored, not cached), and every session of theirs ends.
func (h *Handler) adminPersonPassword(w http.ResponseWriter, r *http.Request, id *Identity) {
	var res httpapi.PasswordReset
	if p := h.call(r.Context(), id, http.MethodPost, "/v1/people/"+url.PathEscape(r.PathValue("id"))+"/password-reset", nil, "", &res); p != nil {
		h.showPerson(w, r, id, p.Status, p)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.showPersonWith(w, r, id, http.StatusOK, nil, res.TemporaryPassword)
}

// adminPersonTOTP serves POST /ui/admin/people/{id}/totp-reset: the
// person's second factor is cleared (DELETE /v1/people/{id}/totp) and
// every session of theirs ends.
func (h *Handler) adminPersonTOTP(w http.ResponseWriter, r *http.Request, id *Identity) {
	if p := h.call(r.Context(), id, http.MethodDelete, "/v1/people/"+url.PathEscape(r.PathValue("id"))+"/totp", nil, "", nil); p != nil {
		h.showPerson(w, r, id, p.Status, p)
		return
	}
	http.Redirect(w, r, "/ui/admin/people/"+url.PathEscape(r.PathValue("id"))+"?done=totp", http.StatusSeeOther)
}
