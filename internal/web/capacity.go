package web

import (
	"net/http"
	"net/url"

	"cihui/internal/httpapi"
)

// capacity shows the places on a date and the waiting list
// (GET /v1/capacity?on=).
func (h *Handler) capacity(w http.ResponseWriter, r *http.Request, id *Identity) {
	on := r.URL.Query().Get("on")
	path := "/v1/capacity"
	if on != "" {
		path += "?on=" + url.QueryEscape(on)
	}
	var c httpapi.CapacityView
	p := h.call(r.Context(), id, http.MethodGet, path, nil, "", &c)
	if p != nil && p.Status != http.StatusBadRequest {
		h.problemPage(w, id, p)
		return
	}
	status := http.StatusOK
	if p != nil {
		status = p.Status
	}
	h.render(w, status, "capacity.html", page{Title: "名額與候補", Who: id, Data: c, Problem: p, Form: map[string]string{"on": on}})
}
