package web

import (
	"net/http"
	"net/url"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// adminInvite serves POST /ui/admin/people: a new person with one role
// (POST /v1/people); more roles are added on their page.
func (h *Handler) adminInvite(w http.ResponseWriter, r *http.Request, id *Identity) {
	req := httpapi.PersonRequest{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.TrimSpace(r.PostFormValue("email")),
		Roles: []domain.Scope{scopeOf(r, "new_role")}, Subject: strings.TrimSpace(r.PostFormValue("oidc_subject"))}
	var p domain.Staff
	if prob := h.call(r.Context(), id, http.MethodPost, "/v1/people", req, "", &p); prob != nil {
		h.showPeople(w, r, id, prob.Status, prob, formMap(r))
		return
	}
	http.Redirect(w, r, "/ui/admin/people/"+url.PathEscape(p.ID)+"?done=invited", http.StatusSeeOther)
}
