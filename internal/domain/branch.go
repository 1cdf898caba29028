package domain

import (
	"fmt"
	"time"

	"cihui/internal/domain/calendar"
)

// MonthDay is a day of the year without a year.
type MonthDay struct {
	Month time.Month `json:"month"`
	Day   int        `json:"day"`
}

// Window is an application window: Opens and Closes inclusive.
type Window struct {
	Opens  calendar.Date `json:"opens"`
	Closes calendar.Date `json:"closes"`
}

// Contains reports whether d lies in the window.
func (w Window) Contains(d calendar.Date) bool {
	return !d.Before(w.Opens) && !d.After(w.Closes)
}

// WindowRule says, in month-days, when applications for an academic year
// are accepted. OpenYearOffset/CloseYearOffset are relative to the AD year
// in which the academic year starts (Aug 1).
type WindowRule struct {
	Open            MonthDay `json:"open"`
	OpenYearOffset  int      `json:"open_year_offset"`
	Close           MonthDay `json:"close"`
	CloseYearOffset int      `json:"close_year_offset"`
}

// For returns the window for academic year rocYear.
func (w WindowRule) For(rocYear int) Window {
	start := rocYear + 1911
	return Window{
		Opens:  calendar.NewDate(start+w.OpenYearOffset, w.Open.Month, w.Open.Day),
		Closes: calendar.NewDate(start+w.CloseYearOffset, w.Close.Month, w.Close.Day),
	}
}

// Branch is one branch school running a Cihui class: its cap, its
// application windows and its city committee are data, not constants.
type Branch struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Committee string `json:"committee"`
	// Cap is the most students enrolled at once (R-CAP-1).
	Cap int `json:"cap"`
	// StartOfYear and MidYear are the default window rules (R-SOY-2,
	// R-MID-1); Overrides replace them for single academic years.
	StartOfYear WindowRule            `json:"start_of_year"`
	MidYear     WindowRule            `json:"mid_year"`
	Overrides   map[int]YearOverrides `json:"overrides,omitempty"`
	// ClassNorms are the class sizes and counts of R-CAP-2.
	ClassNorms ClassNorms `json:"class_norms"`
	// MeetingMonths are the months of the regular second-review meetings
	// by kind (R-MTG-1): march, october, december.
	MeetingMonths map[string]time.Month `json:"meeting_months,omitempty"`
}

// YearOverrides are one academic year's published windows where they
// differ from the default rule.
type YearOverrides struct {
	StartOfYear *Window `json:"start_of_year,omitempty"`
	MidYear     *Window `json:"mid_year,omitempty"`
}

// DefaultBranchCode is the branch a fresh system and the tests run.
const DefaultBranchCode = "xiucai"

// DefaultBranch is the branch of the source document: 135 places
// (R-CAP-1), start-of-year applications Apr 12 – May 14 before the academic
// year (R-SOY-2), mid-year applications Jul 1 – Feb 28 of it (R-MID-1).
func DefaultBranch() Branch {
	return Branch{
		Code:          DefaultBranchCode,
		Name:          "秀才分校",
		Committee:     "桃園市復學輔導就讀小組",
		Cap:           135,
		StartOfYear:   WindowRule{Open: MonthDay{time.April, 12}, Close: MonthDay{time.May, 14}},
		MidYear:       WindowRule{Open: MonthDay{time.July, 1}, Close: MonthDay{time.February, 28}, CloseYearOffset: 1},
		ClassNorms:    DefaultClassNorms(),
		MeetingMonths: DefaultMeetingMonths(),
	}
}

// Window returns the application window of route for academic year rocYear.
func (b Branch) Window(route Route, rocYear int) Window {
	o := b.Overrides[rocYear]
	switch route {
	case RouteStartOfYear:
		if o.StartOfYear != nil {
			return *o.StartOfYear
		}
		return b.StartOfYear.For(rocYear)
	default:
		if o.MidYear != nil {
			return *o.MidYear
		}
		return b.MidYear.For(rocYear)
	}
}

// Validate checks the configuration's form (see ValidateBranch).
func (b Branch) Validate() error {
	if b.Code == "" || b.Cap <= 0 {
		return fmt.Errorf("branch %q: code and a positive cap are required", b.Code)
	}
	return nil
}

// Clock tells the time; tests inject a fixed one.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now implements Clock.
func (f ClockFunc) Now() time.Time { return f() }

// Taipei is the time zone dates are counted in.
var Taipei = time.FixedZone("Asia/Taipei", 8*3600)
