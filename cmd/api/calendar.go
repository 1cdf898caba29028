package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/postgres"
)

// maxCalendarFile bounds the file read: a year's CSV is about 12 KB.
const maxCalendarFile = 1 << 20

// Calendar runs `api calendar import FILE [--year N] [--branch B]`: the
// same as PUT /v1/calendar/{year}, through the same application service,
// recording the same CalendarYearImported event (issue 12). It connects to
// the running system (DATABASE_URL/NATS_URL, or the endpoints file of the
// API running on the data directory, as backup does); only with neither
// does it start the local services itself, and then it stops them.
func (m *Main) Calendar(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) == 0 || args[0] != "import" {
		return errors.New("calendar: import FILE [--year N] [--branch B]")
	}
	fs := flag.NewFlagSet("calendar import", flag.ContinueOnError)
	year := fs.Int("year", 0, "AD year of the file (default: the year it holds)")
	branch := fs.String("branch", domain.DefaultBranchCode, "branch school code")
	var files []string
	for rest := args[1:]; ; { // flags before and after FILE
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files, rest = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 {
		return errors.New("calendar import: give exactly one FILE")
	}
	body, err := readCalendarFile(files[0])
	if err != nil {
		return err
	}
	if *year == 0 {
		t, err := calendar.ParseOfficeCSV(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("calendar import: %s: %w", files[0], err)
		}
		*year = t.Year()
	}

	if _, err := m.running(); err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	branches, err := postgres.NewBranches(m.db).All(ctx)
	if err != nil {
		return err
	}
	if _, err := m.openNATS(); err != nil {
		return err
	}
	store, err := jetstream.Open(ctx, m.nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{Replicas: m.Replicas})
	if err != nil {
		return err
	}
	svc := &app.Service{Store: store, Clock: m.clock(),
		Branches: func(code string) (domain.Branch, bool) { b, ok := branches[code]; return b, ok }}
	actor := events.Actor{Role: domain.RoleAdmin, Branch: *branch, UserID: "cli"}
	res, err := svc.ImportCalendar(ctx, app.Meta{Actor: actor}, *year, bytes.NewReader(body))
	if err != nil {
		return err
	}
	fmt.Printf("imported the office calendar of %d for branch %s (official; event position %d)\n", *year, *branch, res.Position)
	return nil
}

func readCalendarFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("calendar import: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCalendarFile+1))
	if err != nil {
		return nil, fmt.Errorf("calendar import: %w", err)
	}
	if len(b) > maxCalendarFile {
		return nil, fmt.Errorf("calendar import: %s is larger than %d bytes: not a calendar file", name, maxCalendarFile)
	}
	return b, nil
}
