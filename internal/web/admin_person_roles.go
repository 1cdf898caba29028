package web

import (
	"net/http"
	"net/url"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// adminPersonRoles serves POST /ui/admin/people/{id}/roles: the roles
// kept (checked) and one added (PATCH /v1/people/{id}). A role taken away
// ends the sessions acting in it.
func (h *Handler) adminPersonRoles(w http.ResponseWriter, r *http.Request, id *Identity) {
	roles := []domain.Scope{}
	for _, v := range r.PostForm["keep"] {
		if parts := strings.Split(v, "|"); len(parts) == 3 {
			roles = append(roles, domain.Scope{Role: events.Role(parts[0]), School: parts[1], Branch: parts[2]})
		}
	}
	if add := scopeOf(r, "add_role"); add.Role != "" {
		roles = append(roles, add)
	}
	patch := postgres.PersonPatch{Roles: &roles}
	if p := h.call(r.Context(), id, http.MethodPatch, "/v1/people/"+url.PathEscape(r.PathValue("id")), patch, "", nil); p != nil {
		h.showPerson(w, r, id, p.Status, p)
		return
	}
	http.Redirect(w, r, "/ui/admin/people/"+url.PathEscape(r.PathValue("id"))+"?done=roles", http.StatusSeeOther)
}
