package web

import "net/http"

// adminRoutes registers the pages of the admin: people, branches, calendar import, access log, retention, quarantined events.
func (h *Handler) adminRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /ui/admin/people", h.adminOnly(h.adminPeople))
	m.HandleFunc("POST /ui/admin/people", h.adminOnly(h.adminInvite))
	m.HandleFunc("GET /ui/admin/people/{id}", h.adminOnly(h.adminPerson))
	m.HandleFunc("POST /ui/admin/people/{id}/status", h.adminOnly(h.adminPersonStatus))
	m.HandleFunc("POST /ui/admin/people/{id}/roles", h.adminOnly(h.adminPersonRoles))
	m.HandleFunc("POST /ui/admin/people/{id}/password-reset", h.adminOnly(h.adminPersonPassword))
	m.HandleFunc("POST /ui/admin/people/{id}/totp-reset", h.adminOnly(h.adminPersonTOTP))
	m.HandleFunc("GET /ui/admin/branches", h.adminOnly(h.adminBranches))
	m.HandleFunc("POST /ui/admin/branches", h.adminOnly(h.adminBranchSave))
	m.HandleFunc("GET /ui/admin/branches/{code}", h.adminOnly(h.adminBranch))
	m.HandleFunc("POST /ui/admin/branches/{code}", h.adminOnly(h.adminBranchSave))
	m.HandleFunc("GET /ui/admin/calendar", h.adminOnly(h.adminCalendar))
	m.HandleFunc("POST /ui/admin/calendar", h.adminOnly(h.adminCalendarImport))
	m.HandleFunc("GET /ui/admin/access-log", h.adminOnly(h.adminAccessLog))
	m.HandleFunc("GET /ui/admin/retention", h.adminOnly(h.adminRetention))
	m.HandleFunc("POST /ui/admin/retention/{id}/hold", h.adminOnly(h.adminLegalHold))
	m.HandleFunc("POST /ui/admin/retention/run", h.adminOnly(h.adminRetentionRun))
	m.HandleFunc("GET /ui/admin/quarantine", h.adminOnly(h.adminQuarantine))
	m.HandleFunc("POST /ui/admin/quarantine/retry", h.adminOnly(h.adminQuarantineRetry))
}
