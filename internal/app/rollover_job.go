package app

import (
	"context"
	"log/slog"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/logsafe"
)

// RolloverJob rolls every branch over into the academic year its clock
// is in (R-CAP-1, R-SUS-1 decision): on or after Aug 1 the year's
// roll-over is recorded once, by the same command as POST
// /v1/academic-years/{year}/roll-over. Idempotent per year and branch: a
// run after the first appends nothing.
type RolloverJob struct {
	App *Service
	// Branches lists the branch codes to roll over.
	Branches func(ctx context.Context) ([]string, error)
	Clock    domain.Clock
	// Interval between runs (Run); the first run is at start.
	Interval time.Duration
	Log      *slog.Logger
}

// RunOnce rolls every branch over into the current academic year and
// returns how many branches it rolled over now (not before).
func (j *RolloverJob) RunOnce(ctx context.Context) (int, error) {
	codes, err := j.Branches(ctx)
	if err != nil {
		return 0, err
	}
	year := domain.AcademicYearOf(calendar.DateOf(j.Clock.Now(), domain.Taipei))
	n := 0
	var firstErr error
	for _, code := range codes {
		m := Meta{Actor: events.Actor{Role: events.RoleSystem, Branch: code, UserID: "rollover-job"}}
		res, err := j.App.RollOver(ctx, m, year)
		if err != nil {
			j.log().Error("academic-year roll-over failed", "branch", code, "year", year, "err", logsafe.Err(err))
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !res.Done {
			j.log().Info("academic year rolled over", "branch", code, "year", year,
				"graduated", len(res.Graduated), "advanced", len(res.Advanced), "lapsed", len(res.Lapsed))
			n++
		}
	}
	return n, firstErr
}

// Run runs the job at start and then every Interval until ctx is done.
func (j *RolloverJob) Run(ctx context.Context) {
	runEvery(ctx, j.Interval, time.Hour, j.log(), "roll-over", j.RunOnce)
}

func (j *RolloverJob) log() *slog.Logger { return orDiscard(j.Log) }

// BranchCodes lists every configured branch's code (for the roll-over
// job).
func (s *Service) BranchCodes(ctx context.Context) ([]string, error) {
	bs, err := s.ListBranches(ctx, events.Actor{Role: domain.RoleAdmin})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Code
	}
	return out, nil
}
