package web

import (
	"net/http"
	"net/url"

	"cihui/internal/app"
	"cihui/internal/web/form"
)

// putDocument hands in (school) or checks (social worker) one checklist
// item: PUT /v1/referrals/{id}/documents/{item}.
func (h *Handler) putDocument(w http.ResponseWriter, r *http.Request, id *Identity) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	caseID, item := r.PathValue("id"), r.PathValue("item")
	var res app.Result
	path := "/v1/referrals/" + url.PathEscape(caseID) + "/documents/" + url.PathEscape(item)
	if p := h.call(r.Context(), id, http.MethodPut, path, form.Document(r.PostForm), r.PostFormValue("idempotency_key"), &res); p != nil {
		h.caseProblem(w, r, id, p, "doc-"+item)
		return
	}
	redirectCase(w, r, caseID, "saved", res.Position)
}
