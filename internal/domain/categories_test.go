package domain_test

import (
	"slices"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// R-STAT-2 (issue 11): a ReferralOpened written before categories were
// carried decodes with none, and the referral reads them as unknown; a
// correction folds in.
func TestR_STAT_2_OldEventReadsUnknown(t *testing.T) {
	codec := events.NewCodec(events.DefaultRegistry())
	old := `{"id":"e1","type":"ReferralOpened","schema_version":1,"aggregate_type":"referral","aggregate_id":"r1","branch":"b","version":1,
		"data":{"referral_id":"r1","origin_school":"034501","academic_year":114,"route":"mid_year","channel":"direct","received_on":"2026-02-02",
		"grade":8,"sex":"F","grounds":["low_income_risk"],"person_key":"p_1"}}`
	env, err := codec.Decode([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	var r domain.Referral
	r.Apply(env)
	if c := r.Categories; c.FamilyBackground != domain.CategoryUnknown || !slices.Equal(c.Identity, []string{domain.CategoryUnknown}) || c.IdentityKnown() {
		t.Fatalf("old case: %+v", c)
	}
	r.Apply(events.Envelope{Version: 2, Payload: events.CategoriesCorrected{Categories: events.Categories{IdentityKnown: true}}})
	if c := r.Categories; c.FamilyBackground != domain.CategoryUnknown || !c.IdentityKnown() || len(c.Identity) != 0 || c.Has(domain.IdentityIndigenous) {
		t.Fatalf("after recording no identity flag: %+v", c)
	}
}

// R-STAT-2 (issue 11): corrections merge, "unknown" clears, an idle one
// records nothing, closed sets hold, and only the origin school and
// social workers correct.
func TestR_STAT_2_CorrectCategories(t *testing.T) {
	r := domain.Referral{ID: "r1", Version: 1, Categories: domain.UnknownCategories()}
	school := events.Actor{Role: domain.RoleOriginSchool, School: "034501"}
	e, changed, err := r.CorrectCategories(school, domain.Categories{FamilyBackground: domain.BackgroundSingleParent,
		Identity: []string{domain.IdentityInstitutionalCare, domain.IdentityIndigenous, domain.IdentityIndigenous}})
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	want := events.Categories{FamilyBackground: "single_parent", IdentityKnown: true, Identity: []string{"indigenous", "institutional_care"}}
	if e.Categories.FamilyBackground != want.FamilyBackground || !e.Categories.IdentityKnown || !slices.Equal(e.Categories.Identity, want.Identity) {
		t.Fatalf("event %+v, want %+v", e.Categories, want)
	}
	r.Apply(events.Envelope{Version: 2, Payload: e})
	if _, changed, err := r.CorrectCategories(school, domain.Categories{FamilyBackground: domain.BackgroundSingleParent}); changed || err != nil {
		t.Fatalf("an idle correction: changed %v err %v", changed, err)
	}
	e, _, _ = r.CorrectCategories(school, domain.Categories{Identity: []string{domain.CategoryUnknown}})
	if e.Categories.IdentityKnown || e.Categories.FamilyBackground != "single_parent" {
		t.Fatalf("clearing the identity: %+v", e.Categories)
	}
	for _, bad := range []domain.Categories{{}, {FamilyBackground: "雙親"}, {Identity: []string{"unknown", "indigenous"}}, {Identity: []string{"x"}}} {
		if _, _, err := r.CorrectCategories(school, bad); domain.ErrorCode(err) != domain.EInvalid {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if _, _, err := r.CorrectCategories(events.Actor{Role: domain.RoleCommittee}, domain.Categories{FamilyBackground: "no_parent"}); domain.ErrorCode(err) != domain.EForbidden {
		t.Errorf("committee: %v", err)
	}
}
