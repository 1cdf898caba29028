package web

import (
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// adminBranch serves GET /ui/admin/branches/{code}: one branch's settings
// in a form (GET /v1/branches/{code}).
func (h *Handler) adminBranch(w http.ResponseWriter, r *http.Request, id *Identity) {
	var b domain.Branch
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/branches/"+url.PathEscape(r.PathValue("code")), nil, "", &b); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "admin_branch.html", page{Title: "分班設定：" + b.Name, Who: id, Data: b, Flash: adminFlash(r), Form: branchForm(b)})
}

// branchForm fills the settings form from a branch.
func branchForm(b domain.Branch) map[string]string {
	n := b.ClassNorms
	return map[string]string{"code": b.Code, "name": b.Name, "committee": b.Committee, "cap": strconv.Itoa(b.Cap),
		"classes": strconv.Itoa(n.Classes), "min_classes_per_grade": strconv.Itoa(n.MinClassesPerGrade), "max_classes_per_grade": strconv.Itoa(n.MaxClassesPerGrade),
		"min_per_class": strconv.Itoa(n.MinPerClass), "max_per_class": strconv.Itoa(n.MaxPerClass)}
}

// branchRequest reads the settings form; fields left empty keep their
// values. A number that is not one is sent as it is typed, for the
// API to refuse beside the field.
func branchRequest(r *http.Request) (httpapi.BranchRequest, map[string]string) {
	var req httpapi.BranchRequest
	bad := map[string]string{}
	str := func(name string) *string {
		if v := r.PostFormValue(name); v != "" {
			return &v
		}
		return nil
	}
	num := func(name, key string) (int, bool) {
		v := r.PostFormValue(name)
		if v == "" {
			return 0, false
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad[key] = "must be an integer"
			return 0, false
		}
		return n, true
	}
	req.Name, req.Committee = str("name"), str("committee")
	if n, ok := num("cap", "cap"); ok {
		req.Cap = &n
	}
	norms := domain.ClassNorms{}
	set := false
	for name, dst := range map[string]*int{"classes": &norms.Classes, "min_classes_per_grade": &norms.MinClassesPerGrade,
		"max_classes_per_grade": &norms.MaxClassesPerGrade, "min_per_class": &norms.MinPerClass, "max_per_class": &norms.MaxPerClass} {
		if n, ok := num(name, "class_norms."+name); ok {
			*dst, set = n, true
		}
	}
	if set {
		req.ClassNorms = &norms
	}
	return req, bad
}
