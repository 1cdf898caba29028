package web

import (
	"net/http"
	"net/url"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/projections"
)

// duties lists what the person's party still owes (GET /v1/duties): the
// origin school its registrations, dropout reports, notices,
// accompaniments, help to leave and monthly co-counselling; the branch
// its visits and records. Each duty links to the form that clears it.
func (h *Handler) duties(w http.ResponseWriter, r *http.Request, id *Identity) {
	path := "/v1/duties?limit=500"
	switch id.Actor.Role {
	case domain.RoleOriginSchool:
		path += "&party=" + domain.PartyOriginSchool
	case domain.RoleSocialWorker:
		path += "&party=" + domain.PartyBranch
	}
	if v := r.URL.Query().Get("overdue"); v == "true" {
		path += "&overdue=true"
	}
	var l httpapi.DutyList
	if p := h.call(r.Context(), id, http.MethodGet, path, nil, "", &l); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "enrolled_duties_list.html", page{Title: "待辦事項", Who: id, Data: l,
		Form: map[string]string{"overdue": r.URL.Query().Get("overdue")}})
}

// dutyLink is the page whose form clears a duty.
func dutyLink(d projections.Duty) string {
	c := "/ui/cases/" + url.PathEscape(d.CaseID)
	switch d.Kind {
	case domain.DutyHomeVisit:
		return c + "/visit"
	case domain.DutyRegistration:
		return c + "/duties?semester=" + url.QueryEscape(d.Period) + "#registration"
	case domain.DutyRecordsSent:
		return c + "/duties?semester=" + url.QueryEscape(d.Period) + "#records"
	case domain.DutyNetworkNotice:
		return c + "/duties?result=" + url.QueryEscape(d.Period) + "#notice"
	case domain.DutyDropoutReport:
		return c + "/dropouts#reported-" + url.PathEscape(d.Period)
	case domain.DutyAccompaniment:
		return c + "/duties#accompaniment"
	case domain.DutyLeave:
		return c + "/duties#leave"
	case domain.DutyCoCounselling:
		return "/ui/co-counselling#visit"
	case domain.DutyAdmittedList:
		return "/ui/meetings/" + url.PathEscape(d.Period)
	}
	return c
}

// dutyPeriod is a duty's period in words: a result, an episode, a
// semester or month as the API writes it; "-" (owed once) is nothing.
func dutyPeriod(d projections.Duty) string {
	switch {
	case d.Period == "-":
		return ""
	case d.Kind == domain.DutyNetworkNotice:
		return resultName(d.Period)
	case d.Kind == domain.DutyDropoutReport:
		return "第 " + d.Period + " 次中輟"
	case d.Kind == domain.DutyRegistration || d.Kind == domain.DutyRecordsSent:
		return d.Period + " 學期"
	}
	return d.Period
}
