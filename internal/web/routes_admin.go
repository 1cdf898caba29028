package web

import "net/http"

// adminRoutes registers the pages of the admin: people, branches, calendar import, access log, retention, quarantined events.
func (h *Handler) adminRoutes(m *http.ServeMux) {
	_ = m
}
