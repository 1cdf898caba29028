package web

import (
	"net/http"

	"cihui/internal/domain"
)

// home sends each role to its main page.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, id *Identity) {
	to := "/ui/students"
	switch id.Actor.Role {
	case domain.RoleSocialWorker:
		to = "/ui/today"
	case domain.RoleCommittee:
		to = "/ui/meetings"
	case domain.RoleAdmin:
		to = "/ui/admin/people"
	case domain.RoleBureau:
		to = "/ui/statistics"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
