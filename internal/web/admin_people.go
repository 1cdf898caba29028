package web

import (
	"net/http"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

type peopleData struct {
	People  []domain.Staff
	Removed bool
	Roles   []string
}

// adminRoles are the roles a person may be given, in the pages' order.
var adminRoles = []string{string(domain.RoleOriginSchool), string(domain.RoleSocialWorker), string(domain.RoleCommittee), string(domain.RoleBureau), string(domain.RoleAdmin)}

// adminPeople serves GET /ui/admin/people: the people (GET /v1/people,
// ?removed=true for those removed) and the form to add one.
func (h *Handler) adminPeople(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.showPeople(w, r, id, http.StatusOK, nil, map[string]string{"new_role": string(domain.RoleOriginSchool)})
}

func (h *Handler) showPeople(w http.ResponseWriter, r *http.Request, id *Identity, status int, prob *httpapi.Problem, form map[string]string) {
	d := peopleData{Removed: r.URL.Query().Get("removed") == "true", Roles: adminRoles}
	path := "/v1/people"
	if d.Removed {
		path += "?removed=true"
	}
	var list struct {
		Items []domain.Staff `json:"items"`
	}
	if p := h.call(r.Context(), id, http.MethodGet, path, nil, "", &list); p != nil {
		h.problemPage(w, id, p)
		return
	}
	d.People = list.Items
	h.render(w, status, "admin_people.html", page{Title: "人員", Who: id, Data: d, Flash: adminFlash(r), Problem: prob, Form: form})
}
