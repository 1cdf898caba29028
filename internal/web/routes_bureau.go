package web

import "net/http"

// bureauRoutes registers the pages of the bureau: dropout statistics, the five reports, the trend chart, filed lists.
func (h *Handler) bureauRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /ui/statistics", h.signedIn(h.statistics))
	m.HandleFunc("GET /ui/statistics/dropouts.csv", h.signedIn(h.statisticsCSV))
	m.HandleFunc("GET /ui/statistics/reports/{report}", h.signedIn(h.statReport))
	m.HandleFunc("GET /ui/statistics/reports/{report}/csv", h.signedIn(h.statReportCSV))
	m.HandleFunc("GET /ui/statistics/trend", h.signedIn(h.trend))
	m.HandleFunc("GET /ui/filings", h.signedIn(h.filings))
	m.HandleFunc("POST /ui/filings", h.signedIn(h.fileAdmitted))
	m.HandleFunc("GET /ui/award", h.signedIn(h.awardEvidence))
}
