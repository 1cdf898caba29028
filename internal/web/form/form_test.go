package form

import (
	"net/url"
	"testing"
)

// 符合/不符合 become the API's conforms true/false; no choice sends none,
// and a page count that is not a number reaches the API as one it refuses.
func TestDocumentFormMapsTheVerdict(t *testing.T) {
	yes := Document(url.Values{"conforms": {"yes"}, "note": {" 已核對 "}})
	if yes.Conforms == nil || !*yes.Conforms || yes.Note != "已核對" || yes.Pages != nil {
		t.Fatalf("符合: %+v", yes)
	}
	no := Document(url.Values{"conforms": {"no"}})
	if no.Conforms == nil || *no.Conforms {
		t.Fatalf("不符合: %+v", no)
	}
	if none := Document(url.Values{"pages": {"x"}}); none.Conforms != nil || none.Pages == nil || *none.Pages != -1 {
		t.Fatalf("no verdict, bad pages: %+v", none)
	}
}

// The referral form's field names are the API's JSON paths.
func TestReferralFormUsesTheAPIsNames(t *testing.T) {
	r := Referral(url.Values{"student.national_id": {" a123456789 "}, "grade": {"8"}, "grounds": {"low_income_risk", "family_dysfunction"}, "guardian_consent": {"on"}})
	if r.Student.NationalID != "A123456789" || r.Grade != 8 || len(r.Grounds) != 2 || !r.GuardianConsent || r.StudentWilling {
		t.Fatalf("%+v", r)
	}
}
