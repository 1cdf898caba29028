package web

import "net/http"

// enrolledRoutes registers the pages of enrolled life: dropout episodes, grounds by date, the 中止就讀 procedure, registrations, co-counselling.
func (h *Handler) enrolledRoutes(m *http.ServeMux) {
	_ = m
}
