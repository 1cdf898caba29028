package form

import (
	"net/url"
	"strconv"
	"strings"

	"cihui/internal/httpapi"
)

// The enrolled life's forms: dropout episodes (R-ORG-4), suspension
// grounds and procedure (R-SUS-1, R-SUS-2), adaptation meetings (R-ENR-4)
// and the duties the schools record (R-ENR-2, R-ORG-2, R-ORG-5, R-ORG-6).

// Dropout opens an episode.
func Dropout(v url.Values) httpapi.DropoutRequest {
	return httpapi.DropoutRequest{FirstDayAbsent: v.Get("first_day_absent"), Whereabouts: v.Get("whereabouts"),
		Reason: v.Get("reason"), SubReason: v.Get("sub_reason"), Note: strings.TrimSpace(v.Get("note"))}
}

// DropoutReported is the national report filed by the origin school.
func DropoutReported(v url.Values) httpapi.DropoutReportedRequest {
	return httpapi.DropoutReportedRequest{ReportedOn: v.Get("reported_on")}
}

// FollowUp is a follow-up, search or counselling of an episode.
func FollowUp(v url.Values) httpapi.DropoutFollowUpRequest {
	return httpapi.DropoutFollowUpRequest{Kind: v.Get("kind"), On: v.Get("on"), Note: strings.TrimSpace(v.Get("note"))}
}

// Found is the day a whereabouts-unknown student was found.
func Found(v url.Values) httpapi.DropoutFoundRequest {
	return httpapi.DropoutFoundRequest{FoundOn: v.Get("found_on")}
}

// Returned is the day the student returned to school (復學).
func Returned(v url.Values) httpapi.DropoutReturnedRequest {
	return httpapi.DropoutReturnedRequest{ReturnedOn: v.Get("returned_on")}
}

// DropoutClose closes an episode.
func DropoutClose(v url.Values) httpapi.DropoutCloseRequest {
	return httpapi.DropoutCloseRequest{ClosedOn: v.Get("closed_on"), Outcome: v.Get("outcome")}
}

// Ground records a ground of R-SUS-1 with its evidence.
func Ground(v url.Values) httpapi.GroundRequest {
	return httpapi.GroundRequest{Ground: number(v.Get("ground")), On: v.Get("on"), Evidence: strings.TrimSpace(v.Get("evidence"))}
}

// Suspension opens the 中止就讀 procedure with its grounds.
func Suspension(v url.Values) httpapi.SuspensionRequest {
	return httpapi.SuspensionRequest{Grounds: numbers(v["grounds"]), On: v.Get("on"), Note: strings.TrimSpace(v.Get("note"))}
}

// SuspensionVisit is the home or origin-school visit of the procedure.
func SuspensionVisit(v url.Values) httpapi.SuspensionVisitRequest {
	return httpapi.SuspensionVisitRequest{Kind: v.Get("kind"), On: v.Get("on"), Note: strings.TrimSpace(v.Get("note"))}
}

// SuspensionReport is the evaluation report sent to the origin school.
func SuspensionReport(v url.Values) httpapi.SuspensionReportRequest {
	return httpapi.SuspensionReportRequest{On: v.Get("on"), Report: strings.TrimSpace(v.Get("report"))}
}

// Adaptation is an adaptation meeting; its grounds count only for
// propose_end (the API refuses grounds with continue).
func Adaptation(v url.Values) httpapi.AdaptationMeetingRequest {
	req := httpapi.AdaptationMeetingRequest{On: v.Get("on"), Outcome: v.Get("outcome"), Notes: strings.TrimSpace(v.Get("notes"))}
	if req.Outcome != "continue" {
		req.Grounds = numbers(v["grounds"])
	}
	return req
}

// Registration is a semester's registration at the origin school.
func Registration(v url.Values) httpapi.RegistrationRequest {
	return httpapi.RegistrationRequest{Semester: strings.TrimSpace(v.Get("semester"))}
}

// RecordsSent is a semester's records sent to the origin school.
func RecordsSent(v url.Values) httpapi.RecordsSentRequest {
	return httpapi.RecordsSentRequest{Semester: strings.TrimSpace(v.Get("semester")), Kinds: v["kinds"], On: v.Get("on")}
}

// NetworkNotice is the origin school informing the network units.
func NetworkNotice(v url.Values) httpapi.NetworkNoticeRequest {
	return httpapi.NetworkNoticeRequest{Result: v.Get("result"), On: v.Get("on")}
}

// Accompaniment is the origin school accompanying the student reporting.
func Accompaniment(v url.Values) httpapi.AccompanimentRequest {
	return httpapi.AccompanimentRequest{By: v.Get("by"), On: v.Get("on")}
}

// DoneOn is a duty done on a day (leave assistance).
func DoneOn(v url.Values) httpapi.DoneOnRequest { return httpapi.DoneOnRequest{On: v.Get("on")} }

// CoveredCase is one case a co-counselling visit covered.
type CoveredCase struct {
	CaseID string `json:"case_id"`
	Note   string `json:"note,omitempty"`
}

// CoCounsellingBody is the body of POST /v1/co-counselling-visits.
type CoCounsellingBody struct {
	On    string        `json:"on,omitempty"`
	Cases []CoveredCase `json:"cases"`
}

// CoCounselling is a visit to the branch covering the checked cases, each
// with its note (note-<case id>).
func CoCounselling(v url.Values) CoCounsellingBody {
	b := CoCounsellingBody{On: v.Get("on"), Cases: []CoveredCase{}}
	for _, id := range v["cases"] {
		b.Cases = append(b.Cases, CoveredCase{CaseID: id, Note: strings.TrimSpace(v.Get("note-" + id))})
	}
	return b
}

// number is a form's integer; what is not one is -1, which the API
// refuses with its own message.
func number(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}

func numbers(ss []string) []int {
	out := make([]int, 0, len(ss))
	for _, s := range ss {
		out = append(out, number(s))
	}
	return out
}
