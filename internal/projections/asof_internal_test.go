package projections

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// notCaseScoped are the read-model tables with a case_id that no event of
// a case's own stream writes: an as-of read leaves them as they are.
var notCaseScoped = map[string]string{
	"case_duplicates": "the person stream (R-CAP-1)",
	"roster_seats":    "the roster stream",
	"roster_waiting":  "the roster stream",
}

// Issue 11, a case as of any date: every read-model table that holds a
// case's rows is shadowed by the as-of read (or named above with the
// stream that writes it), so a new projected table cannot be forgotten
// and an as-of read never writes a real table.
func TestAsOfShadowsEveryCaseTable(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	var withCase []string
	if err := db.Select(&withCase, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'case_id' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	models := ResetTables()
	for _, table := range withCase {
		if !slices.Contains(models, table) || strings.HasPrefix(table, "projection_") {
			continue // the API's own tables, the quarantine
		}
		if !slices.Contains(caseTables, table) && notCaseScoped[table] == "" {
			t.Errorf("read-model table %s has case rows but is not shadowed by the as-of read (caseTables)", table)
		}
	}
	for _, table := range caseTables {
		if !slices.Contains(models, table) {
			t.Errorf("caseTables names %s, which is not a read-model table", table)
		}
	}
	// Shadowing works on the migrated schema and leaves nothing behind.
	r := NewReader(db)
	if err := r.AsOf(ctx, nil, func(rd *Reader) error {
		var n int
		return rd.db.GetContext(ctx, &n, `SELECT count(*) FROM cases`)
	}); err != nil {
		t.Fatal(err)
	}
}

// Issue 11 with issue 7: an event the as-of read cannot apply is left out
// with the case's later events, as the projector quarantines and holds
// them, and the case shows projection_error; nothing is written for real.
func TestAsOfLeavesOutAnEventThatCannotApply(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	const id = "raaaaaaaaaaaaaaaaaaaaaaaa"
	at := time.Date(2026, 2, 11, 9, 0, 0, 0, time.UTC)
	env := func(pos uint64, e events.Event) events.Envelope {
		return events.Envelope{ID: fmt.Sprint("e", pos), Type: e.EventType(), AggregateType: events.AggregateReferral, AggregateID: id,
			Branch: "xiucai", Version: pos, Position: pos, OccurredAt: at, RecordedAt: at, Payload: e}
	}
	envs := []events.Envelope{
		env(1, events.ReferralOpened{ReferralID: id, OriginSchool: "034501", AcademicYear: 114, Route: "mid_year", Channel: "direct",
			ReceivedOn: calendar.NewDate(2026, 2, 11), Grade: 8, Sex: "F", Grounds: []string{"low_income_risk"}, PersonKey: "p_1"}),
		env(2, events.DropoutOpened{Episode: 0, FirstDayAbsent: calendar.NewDate(2026, 2, 11), Whereabouts: "unknown", Reason: "family"}), // CHECK (episode > 0)
		env(3, events.DocumentSubmitted{Item: 1, Pages: 2}),
	}
	var c Case
	var timeline []TimelineEntry
	if err := NewReader(db).AsOf(ctx, envs, func(rd *Reader) error {
		var err error
		if c, err = rd.Case(ctx, id, Scope{}, false); err != nil {
			return err
		}
		timeline, err = rd.Timeline(ctx, id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !c.ProjectionError || c.Version != 1 || len(timeline) != 1 || c.Documents[0].Submitted {
		t.Fatalf("case %+v, timeline %d", c, len(timeline))
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM cases`); err != nil || n != 0 {
		t.Fatalf("the as-of read wrote %d real cases (%v)", n, err)
	}
}
