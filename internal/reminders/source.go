package reminders

import (
	"context"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// Source gives the duties a person owes as of a date, through every role
// they hold.
type Source interface {
	DutiesOf(ctx context.Context, p domain.Staff, asOf calendar.Date) ([]Item, error)
}

// CalendarFunc returns a branch's office calendar (app.Service.Calendar).
type CalendarFunc func(ctx context.Context, branch string) (*calendar.Calendar, error)

// ReaderSource reads the duties read model (GET /v1/duties, issue 10) for
// each role a person holds: the duties that role's party owes — an origin
// school person their school's, a social worker their branch's. The
// bureau, committee members and admins owe none there (the bureau
// receives the filings; it does not owe them).
type ReaderSource struct {
	Reader   *projections.Reader
	Calendar CalendarFunc
}

// DutiesOf implements Source.
func (s ReaderSource) DutiesOf(ctx context.Context, p domain.Staff, asOf calendar.Date) ([]Item, error) {
	seen := map[string]bool{}
	var out []Item
	for _, r := range p.Roles {
		f := projections.DutyFilter{AsOf: asOf, Limit: 100000}
		branch := r.Branch
		switch r.Role {
		case domain.RoleOriginSchool:
			f.Scope, f.Party = projections.Scope{School: r.School}, domain.PartyOriginSchool
		case domain.RoleSocialWorker:
			f.Scope, f.Party = projections.Scope{Branch: r.Branch}, domain.PartyBranch
		default:
			continue
		}
		if branch == "" {
			branch = domain.DefaultBranchCode
		}
		cal, calErr := s.Calendar(ctx, branch)
		visitDue := func(received calendar.Date) (calendar.Date, bool) {
			if calErr != nil {
				return calendar.Date{}, false
			}
			due, err := domain.DueDate(cal, received)
			return due, err == nil
		}
		ds, err := s.Reader.Duties(ctx, f, visitDue)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			out = append(out, Item{Kind: d.Kind, DueOn: d.DueOn, Overdue: d.Overdue})
		}
	}
	return out, nil
}
