package projections_test

import (
	"context"
	"encoding/json"
	"testing"

	"cihui/internal/pgtest"
	"cihui/internal/postgres"
	"cihui/internal/projections"
)

// The case detail and the case list read in one query each (issue 13):
// every part the detail shows comes back, each sealed note with its own
// row (several notes of a kind included), NULLs as nil, and the list
// carries the checklist, the procedure and the personal data only.
func TestOneQueryCaseDetailAndList(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	sealed := func(kid string) string { return `{"kid":"` + kid + `","nonce":"AAEC","ct":"AwQF"}` }
	for _, q := range []string{
		`INSERT INTO cases (id, branch, origin_school, academic_year, route, grade, sex, stage, received_on, person_key, version, position, opened_at, updated_at)
		 VALUES ('raaaaaaaaaaaaaaaaaaaaaaaa', 'xiucai', '034501', 114, 'mid_year', 8, 'F', 'enrolled', '2026-02-11', 'p_1', 3, 3, now(), now()),
		        ('rbbbbbbbbbbbbbbbbbbbbbbbb', 'xiucai', '034501', 114, 'mid_year', 8, 'M', 'intake', '2026-02-12', 'p_2', 1, 4, now(), now())`,
		`INSERT INTO case_personal (case_id, personal) VALUES ('raaaaaaaaaaaaaaaaaaaaaaaa', '` + sealed("p_person") + `')`,
		`INSERT INTO case_documents (case_id, item, submitted, pages, issued_on, checked, conforms, note, submitted_on, with_dropout_file)
		 VALUES ('raaaaaaaaaaaaaaaaaaaaaaaa', 1, true, 3, '2026-01-05', true, false, '` + sealed("p_doc1") + `', '2026-02-11', true),
		        ('raaaaaaaaaaaaaaaaaaaaaaaa', 2, false, NULL, NULL, false, NULL, NULL, NULL, false),
		        ('raaaaaaaaaaaaaaaaaaaaaaaa', 3, true, 1, NULL, true, true, '` + sealed("p_doc3") + `', '2026-02-11', false),
		        ('rbbbbbbbbbbbbbbbbbbbbbbbb', 1, false, NULL, NULL, false, NULL, NULL, NULL, false)`,
		`INSERT INTO case_visits (position, case_id, kind, on_date, note) VALUES
		 (10, 'raaaaaaaaaaaaaaaaaaaaaaaa', 'contact', '2026-02-12', '` + sealed("p_v1") + `'), (11, 'raaaaaaaaaaaaaaaaaaaaaaaa', 'visit', '2026-02-13', NULL), (12, 'raaaaaaaaaaaaaaaaaaaaaaaa', 'report', '2026-02-14', '` + sealed("p_v3") + `')`,
		`INSERT INTO letters (position, case_id, to_school, student_alias, subject, outcome, next_step, meeting, issued_on) VALUES
		 (20, 'raaaaaaaaaaaaaaaaaaaaaaaa', '034501', '甲生', '初審', 'recommend', '等候複審', '', '2026-02-20'), (21, 'raaaaaaaaaaaaaaaaaaaaaaaa', '034501', '甲生', '複審', 'admit', '報到', 'm1', '2026-03-01')`,
		`INSERT INTO case_adaptation_meetings (position, case_id, on_date, outcome, notes) VALUES
		 (30, 'raaaaaaaaaaaaaaaaaaaaaaaa', '2026-04-01', 'continue', '` + sealed("p_a1") + `'), (31, 'raaaaaaaaaaaaaaaaaaaaaaaa', '2026-05-01', 'propose_end', '` + sealed("p_a2") + `')`,
		`INSERT INTO case_suspensions (case_id, status, grounds, source, opened_on, home_visit_on, appealed, attendees, position)
		 VALUES ('raaaaaaaaaaaaaaaaaaaaaaaa', 'open', '{4,6}', 'adaptation_meeting', '2026-05-01', '2026-05-03', false, NULL, 31)`,
		`INSERT INTO case_suspension_log (position, case_id, kind, on_date, note) VALUES
		 (32, 'raaaaaaaaaaaaaaaaaaaaaaaa', 'opened', '2026-05-01', '` + sealed("p_s1") + `'), (33, 'raaaaaaaaaaaaaaaaaaaaaaaa', 'home', '2026-05-03', '` + sealed("p_s2") + `')`,
		`INSERT INTO dropout_episodes (case_id, episode, first_day_absent, whereabouts, reason, found_on, follow_ups, position)
		 VALUES ('raaaaaaaaaaaaaaaaaaaaaaaa', 1, '2026-03-02', 'unknown', 'family', '2026-03-09', 2, 40)`,
		`INSERT INTO suspension_grounds (position, case_id, ground, on_date) VALUES (41, 'raaaaaaaaaaaaaaaaaaaaaaaa', 6, '2026-05-01')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	kid := func(raw []byte) string {
		var s struct {
			KID string `json:"kid"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("sealed value %q: %v", raw, err)
		}
		return s.KID
	}
	r := projections.NewReader(db)
	for round := range 2 { // the second from the prepared statement
		c, err := r.Case(ctx, "raaaaaaaaaaaaaaaaaaaaaaaa", projections.Scope{School: "034501"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if kid(c.Personal) != "p_person" || len(c.Documents) != 3 || c.Documents[1].SealedNote != nil || c.Documents[1].Pages != nil ||
			c.Documents[1].Conforms != nil || kid(c.Documents[0].SealedNote) != "p_doc1" || kid(c.Documents[2].SealedNote) != "p_doc3" ||
			*c.Documents[0].Pages != 3 || *c.Documents[0].IssuedOn != "2026-01-05" || *c.Documents[0].Conforms || !c.Documents[0].WithDropoutFile ||
			*c.Documents[0].SubmittedOn != "2026-02-11" || c.Documents[0].Name == "" {
			t.Fatalf("round %d: checklist %+v", round, c.Documents)
		}
		if len(c.Visits) != 3 || kid(c.Visits[0].SealedNote) != "p_v1" || c.Visits[1].SealedNote != nil || kid(c.Visits[2].SealedNote) != "p_v3" || c.Visits[2].On != "2026-02-14" {
			t.Fatalf("round %d: visits %+v", round, c.Visits)
		}
		if len(c.Letters) != 2 || c.Letters[1].Meeting != "m1" || c.Letters[0].IssuedOn != "2026-02-20" || c.Letters[1].Position != 21 {
			t.Fatalf("round %d: letters %+v", round, c.Letters)
		}
		if len(c.AdaptationMeetings) != 2 || kid(c.AdaptationMeetings[0].SealedNotes) != "p_a1" || kid(c.AdaptationMeetings[1].SealedNotes) != "p_a2" ||
			c.AdaptationMeetings[1].Outcome != "propose_end" {
			t.Fatalf("round %d: adaptation meetings %+v", round, c.AdaptationMeetings)
		}
		if len(c.SuspensionLog) != 2 || kid(c.SuspensionLog[0].SealedNote) != "p_s1" || kid(c.SuspensionLog[1].SealedNote) != "p_s2" {
			t.Fatalf("round %d: suspension log %+v", round, c.SuspensionLog)
		}
		s := c.Suspension
		if s == nil || s.Status != "open" || len(s.Grounds) != 2 || s.Opened != "2026-05-01" || *s.HomeVisit != "2026-05-03" || s.SchoolVisit != nil ||
			s.Attendees == nil || s.OpenedOn.Format("2006-01-02") != "2026-05-01" || s.HomeVisitOn == nil {
			t.Fatalf("round %d: suspension %+v", round, s)
		}
		eps, gs, ok := c.CaseDropouts()
		if !ok || len(eps) != 1 || eps[0].FirstDayAbsent.Format("2006-01-02") != "2026-03-02" || eps[0].FoundOn == nil || eps[0].ReturnedOn != nil ||
			eps[0].FollowUps != 2 || len(gs) != 1 || gs[0].Ground != 6 {
			t.Fatalf("round %d: dropouts %+v %+v", round, eps, gs)
		}
		wantEps, wantGs, err := r.Dropouts(ctx, "raaaaaaaaaaaaaaaaaaaaaaaa")
		if err != nil || len(wantEps) != 1 || !wantEps[0].FirstDayAbsent.Equal(eps[0].FirstDayAbsent) || !wantGs[0].On.Equal(gs[0].On) {
			t.Fatalf("round %d: dropouts differ from Reader.Dropouts: %+v %+v (%v)", round, wantEps, wantGs, err)
		}
		if _, err := r.Case(ctx, "raaaaaaaaaaaaaaaaaaaaaaaa", projections.Scope{School: "999999"}, true); err == nil {
			t.Fatal("another school's case was found")
		}
		c, err = r.Case(ctx, "raaaaaaaaaaaaaaaaaaaaaaaa", projections.Scope{Branch: "xiucai"}, false)
		if err != nil || c.Personal != nil {
			t.Fatalf("without personal data: %v %q", err, c.Personal)
		}

		page, err := r.Cases(ctx, projections.CaseFilter{Scope: projections.Scope{School: "034501"}, Limit: 50, Personal: true})
		if err != nil || len(page) != 2 || page[0].ID != "raaaaaaaaaaaaaaaaaaaaaaaa" || page[1].ID != "rbbbbbbbbbbbbbbbbbbbbbbbb" {
			t.Fatalf("round %d: list %v %+v", round, err, page)
		}
		if len(page[0].Documents) != 3 || kid(page[0].Documents[2].SealedNote) != "p_doc3" || page[0].Suspension == nil || kid(page[0].Personal) != "p_person" ||
			page[0].Letters != nil || page[0].Visits != nil || page[1].Personal != nil || page[1].Suspension != nil || len(page[1].Documents) != 1 {
			t.Fatalf("round %d: list rows %+v", round, page)
		}
	}
}
