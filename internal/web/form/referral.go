// Package form turns the pages' form posts into the API's request bodies.
// It checks nothing the API checks: the rules answer from the API, as
// problem details, and the page shows them beside the fields.
package form

import (
	"net/url"
	"strconv"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// Referral is the filing form: field names are the API's JSON paths
// (student.name), so a problem's field error lands beside its input.
func Referral(v url.Values) httpapi.OpenReferralRequest {
	var req httpapi.OpenReferralRequest
	req.Route = domain.Route(v.Get("route"))
	req.Channel = domain.Channel(v.Get("channel"))
	req.Grade, _ = strconv.Atoi(v.Get("grade"))
	req.Student.Name = strings.TrimSpace(v.Get("student.name"))
	req.Student.Sex = v.Get("student.sex")
	req.Student.BirthDate = v.Get("student.birth_date")
	req.Student.NationalID = strings.ToUpper(strings.TrimSpace(v.Get("student.national_id")))
	req.Guardian.Name = strings.TrimSpace(v.Get("guardian.name"))
	req.Guardian.Relationship = strings.TrimSpace(v.Get("guardian.relationship"))
	req.Grounds = v["grounds"]
	req.CrisisType = v.Get("crisis_type")
	req.DropoutRecord = v.Get("dropout_record") == "on"
	req.GuardianConsent = v.Get("guardian_consent") == "on"
	req.StudentWilling = v.Get("student_willing") == "on"
	req.Reason = strings.TrimSpace(v.Get("reason"))
	return req
}

// Document is a checklist item as the school hands it in (pages, issued
// on) or a social worker checks it (符合/不符合, note).
func Document(v url.Values) httpapi.DocumentRequest {
	var req httpapi.DocumentRequest
	if s := v.Get("pages"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1 // the API refuses it with its own message
		}
		req.Pages = &n
	}
	if s := v.Get("issued_on"); s != "" {
		req.IssuedOn = &s
	}
	req.WithAccidentInsurance = v.Get("with_accident_insurance") == "on"
	req.WithDropoutFile = v.Get("with_dropout_file") == "on"
	switch v.Get("conforms") {
	case "yes":
		t := true
		req.Conforms = &t
	case "no":
		f := false
		req.Conforms = &f
	}
	req.Note = strings.TrimSpace(v.Get("note"))
	return req
}

// Visit is one entry of the home-visit log.
func Visit(v url.Values) httpapi.HomeVisitRequest {
	return httpapi.HomeVisitRequest{Kind: v.Get("kind"), On: v.Get("on"), Note: strings.TrimSpace(v.Get("note"))}
}

// Review is the first review.
func Review(v url.Values) httpapi.FirstReviewRequest {
	return httpapi.FirstReviewRequest{Outcome: v.Get("outcome"), Reasons: strings.TrimSpace(v.Get("reasons"))}
}

// Resolution is a committee resolution on one case.
func Resolution(v url.Values) httpapi.ResolutionRequest {
	return httpapi.ResolutionRequest{CaseID: v.Get("case_id"), Resolution: v.Get("resolution"), Reason: strings.TrimSpace(v.Get("reason"))}
}
