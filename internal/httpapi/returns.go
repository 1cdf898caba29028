package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// AcceptanceRequest is the body of POST /v1/referrals/{id}/acceptance: a
// social worker accepts an incomplete application for a special reason
// (R-ELIG-4), naming the checklist items still owed.
type AcceptanceRequest struct {
	SpecialReason string `json:"special_reason"`
	OwedItems     []int  `json:"owed_items"`
}

func (r *AcceptanceRequest) validate(calendar.Date) error {
	return domain.ValidateAcceptance(r.SpecialReason, r.OwedItems)
}

func (s *Server) acceptIncomplete(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req AcceptanceRequest) (appResult, error) {
		return s.app.AcceptIncomplete(ctx, m, c.Param("id"), req.SpecialReason, req.OwedItems)
	})
}

// ReturnView is a returned application's last day to re-submit (R-MID-3).
type ReturnView struct {
	ResubmitBy *string `json:"resubmit_by"`
}

// EndView is how a case ended without a decision on it: a returned
// application not re-submitted by the window's end lapses (R-MID-3).
type EndView struct {
	State  string `json:"state"`
	On     string `json:"on"`
	Reason string `json:"reason"`
}

// AcceptanceView is an incomplete application accepted for a special
// reason (R-ELIG-4): the items owed when it was accepted, those still
// owed (each until it is handed in and checked as conforming), and the
// reason, shown to social workers only.
type AcceptanceView struct {
	On            string           `json:"on"`
	OwedItems     []int            `json:"owed_items"`
	StillOwed     []domain.Missing `json:"still_owed"`
	SpecialReason *string          `json:"special_reason,omitempty"`
}

// returnsView fills the return, lapse and acceptance parts of a case.
func returnsView(v *ReferralView, c projections.Case) {
	if c.Stage == string(domain.StageReturned) {
		v.Return = &ReturnView{ResubmitBy: dateString(c.ResubmitBy)}
	}
	if c.Stage == string(domain.StageLapsed) && c.LapsedOn != nil {
		reason := "returned incomplete and not re-submitted by the window's last day (R-MID-3)"
		if by := dateString(c.ResubmitBy); by != nil {
			reason = "returned incomplete and not re-submitted by " + *by + ", the window's last day (R-MID-3)"
		}
		v.End = &EndView{State: string(domain.StageLapsed), On: *dateString(c.LapsedOn), Reason: reason}
	}
	if c.AcceptedOn != nil {
		a := &AcceptanceView{On: *dateString(c.AcceptedOn), OwedItems: make([]int, len(c.OwedItems)), SpecialReason: c.SpecialReason}
		for i, n := range c.OwedItems {
			a.OwedItems[i] = int(n)
		}
		a.StillOwed = domain.StillOwed(a.OwedItems, v.Missing)
		v.Acceptance = a
	}
}
