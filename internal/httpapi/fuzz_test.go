package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// commandBodies are the request bodies of every command endpoint, in a
// fixed order: the fuzzer's first byte picks one.
var commandBodies = []struct {
	name     string
	new      func() any
	optional bool
}{
	{"POST /v1/referrals", func() any { return new(OpenReferralRequest) }, false},
	{"PUT /v1/referrals/{id}/documents/{item}", func() any { return new(DocumentRequest) }, false},
	{"POST /v1/referrals/{id}/return", func() any { return new(ReturnRequest) }, true},
	{"POST /v1/referrals/{id}/resubmission", func() any { return new(struct{}) }, true},
	{"POST /v1/referrals/{id}/home-visits", func() any { return new(HomeVisitRequest) }, false},
	{"POST /v1/referrals/{id}/first-review", func() any { return new(FirstReviewRequest) }, false},
	{"POST /v1/referrals/{id}/erasure", func() any { return new(ErasureRequest) }, false},
	{"POST /v1/calendar/closures", func() any { return new(ClosureRequest) }, false},
	{"POST /v1/meetings", func() any { return new(ScheduleRequest) }, false},
	{"POST /v1/meetings/{id}/open", func() any { return new(struct{}) }, true},
	{"POST /v1/meetings/{id}/resolutions", func() any { return new(ResolutionRequest) }, false},
	{"POST /v1/meetings/{id}/close", func() any { return new(CloseRequest) }, true},
	{"POST /v1/referrals/{id}/appeals", func() any { return new(AppealRequest) }, false},
	{"POST /v1/referrals/{id}/withdrawal", func() any { return new(WithdrawalRequest) }, false},
	{"POST /v1/referrals/{id}/health-check", func() any { return new(HealthCheckRequest) }, false},
	{"POST /v1/referrals/{id}/enrolment", func() any { return new(EnrolmentRequest) }, false},
	{"POST /v1/referrals/{id}/registrations", func() any { return new(RegistrationRequest) }, false},
	{"POST /v1/referrals/{id}/dropouts", func() any { return new(DropoutRequest) }, false},
	{"POST /v1/referrals/{id}/dropouts/{n}/reported", func() any { return new(DropoutReportedRequest) }, false},
	{"POST /v1/referrals/{id}/dropouts/{n}/follow-ups", func() any { return new(DropoutFollowUpRequest) }, false},
	{"POST /v1/referrals/{id}/dropouts/{n}/found", func() any { return new(DropoutFoundRequest) }, false},
	{"POST /v1/referrals/{id}/dropouts/{n}/returned", func() any { return new(DropoutReturnedRequest) }, false},
	{"POST /v1/referrals/{id}/dropouts/{n}/close", func() any { return new(DropoutCloseRequest) }, false},
	{"POST /v1/referrals/{id}/grounds", func() any { return new(GroundRequest) }, false},
	{"POST /v1/referrals/{id}/major-reason", func() any { return new(MajorReasonRequest) }, false},
	{"POST /v1/academic-years/{academic_year}/classes/confirmation", func() any { return new(ClassConfirmationRequest) }, true},
	{"POST /v1/referrals/{id}/adaptation-meetings", func() any { return new(AdaptationMeetingRequest) }, false},
	{"POST /v1/referrals/{id}/suspension", func() any { return new(SuspensionRequest) }, false},
	{"POST /v1/referrals/{id}/suspension/visits", func() any { return new(SuspensionVisitRequest) }, false},
	{"POST /v1/referrals/{id}/suspension/report", func() any { return new(SuspensionReportRequest) }, false},
	{"POST /v1/award/score-sheets", func() any { return new(ScoreSheetRequest) }, false},
	{"POST /v1/award/score-sheets/{sheet}/corrections", func() any { return new(ScoreSheetRequest) }, false},
}

// fuzzToday is the fixed "today" of the fuzz targets.
var fuzzToday = calendar.NewDate(2026, 2, 11)

// vocabulary holds the words the validators' messages are made of: a
// value from these closed sets may appear in a message without being an
// echo of the input.
var vocabulary = strings.Join(slicesOf(domain.Stages, domain.Grounds, domain.CrisisTypes, domain.Exclusions,
	domain.Stakeholders, domain.MeetingKinds, domain.ErasureReasons, domain.VisitKinds, domain.HousingTypes,
	domain.EconomyTypes, domain.IncomeTypes, domain.LivingTypes, domain.Whereabouts, domain.DropoutReasons,
	domain.FollowUpKinds, domain.DropoutOutcomes, subReasonCodes(), domain.Resolutions, domain.Destinations,
	domain.AdaptationOutcomes, domain.SuspensionVisitKinds), "|")

func subReasonCodes() []string {
	var out []string
	for _, subs := range domain.DropoutSubReasons {
		for _, s := range subs {
			out = append(out, s.Code)
		}
	}
	return out
}

func slicesOf(ss ...[]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s...)
	}
	return out
}

// stringLeaves collects every string held in v.
func stringLeaves(v reflect.Value, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stringLeaves(v.Elem(), out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			stringLeaves(v.Index(i), out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				stringLeaves(v.Field(i), out)
			}
		}
	}
}

// FuzzCommandDecoders feeds arbitrary bodies to the decoder and the
// checks of every command (the first byte picks the command). Whatever
// comes in: no panic; a refusal is an EInvalid domain error that never
// repeats a value sent; an accepted body holds only text every store can
// hold, and is accepted again after a round trip through JSON.
func FuzzCommandDecoders(f *testing.F) {
	f.Add(byte(0), []byte(`{"route":"mid_year","channel":"direct","grade":8,"student":{"name":"測試","sex":"M","birth_date":"2012-05-01","national_id":"a123456789"},"guardian":{"name":"家長","relationship":"父"},"grounds":["low_income_risk"],"guardian_consent":true,"student_willing":true,"reason":"測試"}`))
	f.Add(byte(0), []byte(`{"route":"mid_year","channel":"direct","grade":8,"student":{"name":"王\u0000明","sex":"M","birth_date":"2099-01-01","national_id":"A123456789"}}`))
	f.Add(byte(1), []byte(`{"pages":9223372036854775807}`))
	f.Add(byte(1), []byte(`{"pages":2,"issued_on":"2026-02-01","note":"line\nnext"}`))
	f.Add(byte(4), []byte(`{"kind":"visit","on":"2026-02-11","note":"家訪"}`))
	f.Add(byte(8), []byte(`{"academic_year":-99999999999,"kind":"march","date":"2026-03-23"}`))
	f.Add(byte(10), []byte(`{"case_id":"raaaaaaaaaaaaaaaaaaaaaaaa","resolution":"reject","reason":"理由"}`))
	f.Add(byte(15), []byte(`{"grade":8,"class":"8-1","override_reason":"a\u0000"}`))
	f.Add(byte(16), []byte(`{"semester":"114-2"}`))
	f.Add(byte(17), []byte(`{"first_day_absent":"2026-02-02","whereabouts":"unknown","reason":"family","sub_reason":"economic","note":"備註"}`))
	f.Add(byte(17), []byte(`{"first_day_absent":"2026-02-02","whereabouts":"unknown","reason":"family","sub_reason":"bad_company"}`))
	f.Add(byte(19), []byte(`{"kind":"search","on":"2026-02-03","note":"協尋"}`))
	f.Add(byte(22), []byte(`{"closed_on":"2026-02-05","outcome":"returned"}`))
	f.Add(byte(23), []byte(`{"ground":3,"on":"2026-02-05","evidence":"佐證"}`))
	f.Add(byte(31), []byte(`{"academic_year":114,"ratings":{"organisation":5,"prevention":4,"search":3,"return":2,"follow_up":1,"innovation":5,"other":4},"reviewer":"評審","comments":"意見"}`))
	f.Add(byte(31), []byte(`{"academic_year":114,"ratings":{"organisation":50,"reviewer_secret_name":1},"reviewer":"a\u0000b"}`))
	f.Fuzz(func(t *testing.T, pick byte, body []byte) {
		cmd := commandBodies[int(pick)%len(commandBodies)]
		v := cmd.new()
		err := decodeCommand(body, v, cmd.optional, fuzzToday)
		var leaves []string
		stringLeaves(reflect.ValueOf(v), &leaves)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EInvalid {
				t.Fatalf("%s: a refusal that is not invalid: %#v", cmd.name, err)
			}
			msg := de.Message
			for k, m := range de.Fields {
				msg += "\x00" + k + "\x00" + m
			}
			if len(body) >= 16 && strings.Contains(msg, string(body)) {
				t.Fatalf("%s: the error repeats the body", cmd.name)
			}
			for _, s := range leaves {
				if len(s) >= 8 && strings.Contains(msg, s) && !strings.Contains(vocabulary, s) {
					t.Fatalf("%s: the error repeats a value sent: %q in %q", cmd.name, s, msg)
				}
			}
			return
		}
		for _, s := range leaves {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%s: accepted a value no store can hold: %q", cmd.name, s)
			}
		}
		again, jerr := json.Marshal(v)
		if jerr != nil {
			t.Fatalf("%s: accepted value does not encode: %v", cmd.name, jerr)
		}
		if err := decodeCommand(again, cmd.new(), cmd.optional, fuzzToday); err != nil {
			t.Fatalf("%s: accepted, then refused after a round trip: %v\n%s", cmd.name, err, again)
		}
	})
}

// FuzzCursor: a cursor is either a referral id, returned as is, or the
// one "invalid cursor" answer, which repeats nothing.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "raaaaaaaaaaaaaaaaaaaaaaaa", "r" + strings.Repeat("2", 24), "\xc3\x28", "r\x00", "garbage", strings.Repeat("r", 300), "r*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCursor(s)
		if err == nil {
			if got != s || (s != "" && !domain.IsReferralID(s)) {
				t.Fatalf("cursor %q accepted as %q", s, got)
			}
			return
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EInvalid || de.Fields["cursor"] != domain.MsgInvalidCursor || len(de.Fields) != 1 {
			t.Fatalf("cursor %q: %#v", s, err)
		}
	})
}

// FuzzIfMatch: an If-Match header is either the version it names, or an
// EInvalid error with the one fixed message.
func FuzzIfMatch(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"12"`, `3`, `"18446744073709551615"`, `"18446744073709551616"`, `*`, `"-1"`, `""`, `"3`, `W/`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		v, err := parseIfMatch(h)
		if err == nil {
			if !strings.Contains(h, strconv.FormatUint(v, 10)) {
				t.Fatalf("If-Match %q read as %d", h, v)
			}
			return
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EInvalid || de.Fields["If-Match"] != `must be a version such as "3"` {
			t.Fatalf("If-Match %q: %#v", h, err)
		}
	})
}
