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

// LastDay returns the day the window really closes on: its Closes date,
// or, when that is not a working day on cal, the next working day
// (R-SOY-2, R-MID-1 Decision: 行政程序法 §48(4); Feb 28 is a holiday every
// year). A nil cal leaves Closes as it is. The error is a domain error
// naming the calendar year that is needed.
func (w Window) LastDay(cal *calendar.Calendar) (calendar.Date, error) {
	if cal == nil {
		return w.Closes, nil
	}
	ok, err := cal.IsWorkday(w.Closes)
	if err != nil {
		return calendar.Date{}, yearUnknown(err)
	}
	if ok {
		return w.Closes, nil
	}
	d, err := cal.AddWorkdays(w.Closes, 1)
	if err != nil {
		return calendar.Date{}, yearUnknown(err)
	}
	return d, nil
}

// ContainsOn reports whether d lies in the window, its last day extended
// to the next working day on cal (see [Window.LastDay]). The calendar is
// consulted only for a day after Closes.
func (w Window) ContainsOn(cal *calendar.Calendar, d calendar.Date) (bool, error) {
	if w.Contains(d) || d.Before(w.Opens) {
		return w.Contains(d), nil
	}
	last, err := w.LastDay(cal)
	if err != nil {
		return false, err
	}
	return !d.After(last), nil
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
