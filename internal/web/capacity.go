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
	status, p, ok := h.getForForm(w, r, id, path, &c)
	if !ok {
		return
	}
	h.render(w, status, "capacity.html", page{Title: "名額與候補", Who: id, Data: c, Problem: p, Form: map[string]string{"on": on}})
}
