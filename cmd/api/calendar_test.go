package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/testenv"
)

// Issue 12: `api calendar import FILE` joins the running system through
// <data-dir>/endpoints.json and does what PUT /v1/calendar/{year} does: the
// same event, and an open case's due date moves and becomes official.
func TestIssue12CalendarImportCommand(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "tw-office-calendar-provisional", "116-transcribed.csv"))
	if err != nil {
		t.Skipf("../shared/data/tw-office-calendar-provisional/116-transcribed.csv is not here (%v): skipping", err)
	}
	e := testenv.New(t, testenv.Options{Now: testDay(2026, 12, 21)})
	school, sw := e.Token(domain.RoleOriginSchool, "034501"), e.Token(domain.RoleSocialWorker, "")
	r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral("A123456789"))
	if r.Status != 201 {
		t.Fatalf("open: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	visit := func() map[string]any {
		t.Helper()
		last, err := e.Store.LastPosition(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		r := e.Do("GET", fmt.Sprintf("/v1/referrals/%s?min_position=%d", id, last), sw, nil)
		if r.Status != 200 {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		return r.JSON(t)["visit"].(map[string]any)
	}
	if v := visit(); v["due_on"] != "2027-01-06" || v["calendar_status"] != "provisional" {
		t.Fatalf("before the import: %v", v)
	}

	// The running system's endpoints and NATS credentials, as a running
	// API leaves them in its data directory.
	dataDir := t.TempDir()
	if err := os.Symlink(e.NATSAuthDir, filepath.Join(dataDir, config.NATSAuthDir)); err != nil {
		t.Fatal(err)
	}
	if err := config.WriteEndpoints(dataDir, config.Endpoints{DatabaseURL: e.DSN, NATSURL: e.Server.ClientURL(), PID: os.Getpid()}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CIHUI_DATA_DIR", dataDir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("NATS_URL", "")
	file := filepath.Join(t.TempDir(), "116.csv")
	// The official file differs: Tuesday 2027-01-05 is a day off.
	flipped := bytes.Replace(orig, []byte("20270105,\xe4\xba\x8c,0,"), []byte("20270105,\xe4\xba\x8c,2,"), 1)
	if bytes.Equal(flipped, orig) {
		t.Fatal("the 2027-01-05 line is not in the transcription")
	}
	if err := os.WriteFile(file, flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := e.Store.LastPosition(t.Context())
	// A wrong year is refused and records nothing.
	if err := run(context.Background(), []string{"calendar", "import", file, "--year", "2026"}); err == nil {
		t.Fatal("a 2027 file imported as 2026")
	}
	if err := run(context.Background(), []string{"calendar", "import", file}); err != nil {
		t.Fatalf("calendar import: %v", err)
	}
	if v := visit(); v["due_on"] != "2027-01-07" || v["calendar_status"] != "official" {
		t.Errorf("after the import: %v, want due 2027-01-07 official", v)
	}
	// Exactly one event, the one PUT /v1/calendar/2027 records.
	l, err := e.Store.Load(t.Context(), events.StreamID{Branch: e.Branch.Code, Type: events.AggregateCalendar})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := e.Store.LastPosition(t.Context())
	if len(l.Events) != 1 || after != before+1 {
		t.Fatalf("%d calendar events, positions %d -> %d", len(l.Events), before, after)
	}
	ev, ok := l.Events[0].Payload.(events.CalendarYearImported)
	if !ok || ev.Year != 2027 || l.Events[0].Actor.Role != domain.RoleAdmin {
		t.Errorf("event %T %+v by %+v", l.Events[0].Payload, ev, l.Events[0].Actor)
	}
}

func testDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 10, 0, 0, 0, domain.Taipei)
}
