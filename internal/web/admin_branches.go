package web

import (
	"net/http"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// adminBranches serves GET /ui/admin/branches: the branches and their
// settings (GET /v1/branches), and the form to add one.
func (h *Handler) adminBranches(w http.ResponseWriter, r *http.Request, id *Identity) {
	h.showBranches(w, r, id, http.StatusOK, nil, nil)
}

func (h *Handler) showBranches(w http.ResponseWriter, r *http.Request, id *Identity, status int, prob *httpapi.Problem, form map[string]string) {
	var list struct {
		Items []domain.Branch `json:"items"`
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/branches", nil, "", &list); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, status, "admin_branches.html", page{Title: "分班設定", Who: id, Data: list.Items, Flash: adminFlash(r), Problem: prob, Form: form})
}
