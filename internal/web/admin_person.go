package web

import (
	"net/http"
	"net/url"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

type personData struct {
	Person domain.Staff
	Roles  []string
	Self   bool
	// Temporary is a password just reset, shown this once.
	Temporary string
}

// adminPerson serves GET /ui/admin/people/{id}: a person, their roles and
// status, with the forms to change them (GET /v1/people/{id}).
func (h *Handler) adminPerson(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.showPerson(w, r, id, http.StatusOK, nil)
}

func (h *Handler) showPerson(w http.ResponseWriter, r *http.Request, id *Identity, status int, prob *httpapi.Problem) {
	h.showPersonWith(w, r, id, status, prob, "")
}

// showPersonWith shows the person page, with a temporary password just
// set (admin_person_reset.go).
func (h *Handler) showPersonWith(w http.ResponseWriter, r *http.Request, id *Identity, status int, prob *httpapi.Problem, temporary string) {
	d := personData{Roles: adminRoles, Temporary: temporary}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/people/"+url.PathEscape(r.PathValue("id")), nil, "", &d.Person); p != nil {
		h.problemPage(w, id, p)
		return
	}
	d.Self = d.Person.ID == id.Actor.UserID
	h.render(w, status, "admin_person.html", page{Title: "人員：" + d.Person.Name, Who: id, Data: d, Flash: adminFlash(r), Problem: prob,
		Form: map[string]string{"add_role": ""}})
}
