package web

import "net/http"

// enrolledRoutes registers the pages of enrolled life: dropout episodes, grounds by date, the 中止就讀 procedure, registrations, co-counselling.
func (h *Handler) enrolledRoutes(m *http.ServeMux) {
	s := h.signedIn
	m.HandleFunc("GET /ui/cases/{id}/dropouts", s(h.showSub(subDropouts)))
	m.HandleFunc("POST /ui/cases/{id}/dropouts", s(h.openDropout))
	m.HandleFunc("POST /ui/cases/{id}/dropouts/{n}/reported", s(h.reportDropout))
	m.HandleFunc("POST /ui/cases/{id}/dropouts/{n}/follow-ups", s(h.followUpDropout))
	m.HandleFunc("POST /ui/cases/{id}/dropouts/{n}/found", s(h.foundDropout))
	m.HandleFunc("POST /ui/cases/{id}/dropouts/{n}/returned", s(h.returnedDropout))
	m.HandleFunc("POST /ui/cases/{id}/dropouts/{n}/close", s(h.closeDropout))
	m.HandleFunc("GET /ui/cases/{id}/suspension", s(h.showSub(subSuspension)))
	m.HandleFunc("POST /ui/cases/{id}/grounds", s(h.recordGround))
	m.HandleFunc("POST /ui/cases/{id}/suspension", s(h.openSuspension))
	m.HandleFunc("POST /ui/cases/{id}/suspension/visits", s(h.suspensionVisit))
	m.HandleFunc("POST /ui/cases/{id}/suspension/report", s(h.suspensionReport))
	m.HandleFunc("POST /ui/cases/{id}/adaptation-meetings", s(h.adaptationMeeting))
	m.HandleFunc("GET /ui/cases/{id}/duties", s(h.showSub(subDuties)))
	m.HandleFunc("POST /ui/cases/{id}/registrations", s(h.registerSemester))
	m.HandleFunc("POST /ui/cases/{id}/records-sent", s(h.recordsSent))
	m.HandleFunc("POST /ui/cases/{id}/network-notices", s(h.networkNotice))
	m.HandleFunc("POST /ui/cases/{id}/accompaniment", s(h.accompaniment))
	m.HandleFunc("POST /ui/cases/{id}/leave-assistance", s(h.leaveAssistance))
	m.HandleFunc("GET /ui/suspension-grounds", s(h.suspensionGrounds))
	m.HandleFunc("GET /ui/duties", s(h.duties))
	m.HandleFunc("GET /ui/co-counselling", s(h.showCoCounselling))
	m.HandleFunc("POST /ui/co-counselling", s(h.coCounselling))
}
