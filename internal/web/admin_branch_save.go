package web

import (
	"net/http"
	"net/url"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// adminBranchSave serves POST /ui/admin/branches/{code} (its settings)
// and POST /ui/admin/branches (a new branch, its code in the form): PUT
// /v1/branches/{code}, whose checks (R-CAP-1, R-CAP-2) answer beside the
// fields.
func (h *Handler) adminBranchSave(w http.ResponseWriter, r *http.Request, id *Identity) {
	code := r.PathValue("code")
	isNew := code == ""
	if isNew {
		code = strings.TrimSpace(r.PostFormValue("code"))
	}
	req, bad := branchRequest(r)
	var prob *httpapi.Problem
	if len(bad) > 0 {
		prob = &httpapi.Problem{Status: http.StatusBadRequest, Code: "invalid", Title: "請修正下列欄位。", Errors: bad}
	} else if !domain.ValidCode(code) {
		prob = &httpapi.Problem{Status: http.StatusBadRequest, Code: "invalid", Errors: map[string]string{"code": "must be a code of 1 to 32 letters, digits, '_' or '-'"}}
	} else {
		var b domain.Branch
		prob = h.call(r.Context(), id, http.MethodPut, "/v1/branches/"+url.PathEscape(code), req, "", &b)
	}
	if prob != nil {
		if isNew {
			h.showBranches(w, r, id, prob.Status, prob, formMap(r))
			return
		}
		h.render(w, prob.Status, "admin_branch.html", page{Title: "分班設定", Who: id, Data: domain.Branch{Code: code}, Problem: prob, Form: formMap(r)})
		return
	}
	http.Redirect(w, r, "/ui/admin/branches/"+url.PathEscape(code)+"?done=branch", http.StatusSeeOther)
}
