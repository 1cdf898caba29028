package projections

import (
	"context"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// RosterOn is a branch's places on one date, from the projected roster
// (R-CAP-1 dated): seats held that day, of which enrolled by then, and
// the waiting list in order.
type RosterOn struct {
	Held     int
	Enrolled int
	Waiting  []domain.WaitEntry
}

// RosterOn reads the places of branch on day on: one indexed count over
// roster_seats and the waiting list.
func (r *Reader) RosterOn(ctx context.Context, branch string, on calendar.Date) (RosterOn, error) {
	var out RosterOn
	row := struct {
		Held     int `db:"held"`
		Enrolled int `db:"enrolled"`
	}{}
	if err := r.db.GetContext(ctx, &row, `
		SELECT count(*) AS held, count(*) FILTER (WHERE enrolled_on IS NOT NULL AND enrolled_on <= $2) AS enrolled
		FROM roster_seats WHERE branch = $1 AND from_on <= $2 AND (last_on IS NULL OR last_on >= $2)`,
		branch, on.String()); err != nil {
		return out, err
	}
	out.Held, out.Enrolled = row.Held, row.Enrolled
	var rows []struct {
		CaseID   string `db:"case_id"`
		Position uint64 `db:"application_position"`
	}
	if err := r.db.SelectContext(ctx, &rows, `
		SELECT case_id, application_position FROM roster_waiting WHERE branch = $1 ORDER BY application_position, case_id`, branch); err != nil {
		return out, err
	}
	out.Waiting = make([]domain.WaitEntry, len(rows))
	for i, w := range rows {
		out.Waiting[i] = domain.WaitEntry{CaseID: w.CaseID, ApplicationPosition: w.Position}
	}
	return out, nil
}

// WaitingOrder is the branch's waiting list in order (R-CAP-1, R-SOY-5),
// case ids only: the ranks a case detail shows, from the projected roster
// the capacity answer reads too.
func (r *Reader) WaitingOrder(ctx context.Context, branch string) ([]string, error) {
	var ids []string
	err := r.db.SelectContext(ctx, &ids, `
		SELECT case_id FROM roster_waiting WHERE branch = $1 ORDER BY application_position, case_id`, branch)
	return ids, err
}
