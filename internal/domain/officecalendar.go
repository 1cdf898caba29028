package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// OfficeCalendar is the working-day calendar aggregate of a branch: the
// built-in official calendars, overridden year by year by imported files
// (an admin imports each year's published file, and re-imports a revised
// edition), plus ad-hoc office closures such as typhoon days.
type OfficeCalendar struct {
	imported map[int]calendar.YearTable
	closures []calendar.Date
	Version  uint64
}

// Apply folds one stored event into the calendar.
func (c *OfficeCalendar) Apply(env events.Envelope) {
	switch e := env.Payload.(type) {
	case events.CalendarYearImported:
		if t, err := yearFromExceptions(e.Year, e.WeekdaysOff, e.WeekendsWork); err == nil {
			if c.imported == nil {
				c.imported = map[int]calendar.YearTable{}
			}
			c.imported[e.Year] = t
		}
	case events.OfficeClosed:
		c.closures = append(c.closures, e.Date)
	}
	c.Version = env.Version
}

// Calendar returns the working-day calendar: built-in years, replaced by
// imported ones, with closures applied. A year with neither is unknown,
// and asking about it is an error, never a guess.
func (c *OfficeCalendar) Calendar() *calendar.Calendar {
	cal := calendar.Default()
	for _, t := range c.imported {
		cal = cal.WithYear(t)
	}
	if len(c.closures) > 0 {
		cal = cal.WithClosure(c.closures...)
	}
	return cal
}

func yearFromExceptions(year int, off, work []calendar.Date) (calendar.YearTable, error) {
	days := map[calendar.Date]bool{}
	for d := calendar.NewDate(year, time.January, 1); d.Year() == year; d = d.AddDays(1) {
		wd := d.Weekday()
		days[d] = wd == time.Saturday || wd == time.Sunday
	}
	for _, d := range off {
		days[d] = true
	}
	for _, d := range work {
		days[d] = false
	}
	return calendar.NewYearTable(year, days)
}

// ImportCalendarYear parses an official office calendar file as published
// (UTF-8 with BOM, or Big5) for AD year year.
func ImportCalendarYear(a events.Actor, year int, r io.Reader) (events.CalendarYearImported, error) {
	if a.Role != RoleAdmin {
		return events.CalendarYearImported{}, Errorf(EForbidden, "calendars are imported by an admin")
	}
	if year < MinCalendarYear || year > MaxCalendarYear {
		return events.CalendarYearImported{}, Invalid(map[string]string{"year": "must be an AD year such as 2026"})
	}
	h := sha256.New()
	t, err := calendar.ParseOfficeCSV(io.TeeReader(r, h))
	if err != nil {
		var pe *calendar.ParseError
		if errors.As(err, &pe) {
			return events.CalendarYearImported{}, &Error{Code: EInvalid, Message: "the calendar file could not be read: " + pe.Error(), Fields: map[string]string{"body": pe.Error()}}
		}
		return events.CalendarYearImported{}, &Error{Code: EInvalid, Message: "the calendar file could not be read"}
	}
	if t.Year() != year {
		return events.CalendarYearImported{}, Invalid(map[string]string{"year": "the file is the calendar of another year"})
	}
	off, work := t.Exceptions()
	return events.CalendarYearImported{Year: year, WeekdaysOff: off, WeekendsWork: work, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ValidateClosure checks the reason of an office closure: one line.
func ValidateClosure(reason string) error {
	var c Check
	c.Line("reason", reason, MaxLineLen, false)
	if !c.Has("reason") && isBlank(reason) {
		c.Set("reason", "required, e.g. 颱風停班停課")
	}
	return c.Err()
}

// CloseOffice records an ad-hoc closure of government offices (typhoon
// day): a working day becomes a day off, and open due dates move.
func (c *OfficeCalendar) CloseOffice(a events.Actor, d calendar.Date, reason string) (events.OfficeClosed, error) {
	if a.Role != RoleAdmin {
		return events.OfficeClosed{}, Errorf(EForbidden, "office closures are recorded by an admin")
	}
	if err := ValidateClosure(reason); err != nil {
		return events.OfficeClosed{}, err
	}
	work, err := c.Calendar().IsWorkday(d)
	if err != nil {
		return events.OfficeClosed{}, yearUnknown(err)
	}
	if !work {
		return events.OfficeClosed{}, Errorf(EConflict, "%s is already a day off", d)
	}
	return events.OfficeClosed{Date: d, Reason: reason}, nil
}

// yearUnknown maps a calendar error to the domain error type.
func yearUnknown(err error) error {
	var y *calendar.YearUnknownError
	if errors.As(err, &y) {
		e := RuleError("R-MID-4", "no office calendar for %d: import the official calendar of that year", y.Year)
		e.Fields = map[string]string{CalendarYearNeededField: strconv.Itoa(y.Year)}
		return e
	}
	return err
}

// CalendarYearNeededField names, in the fields of the error for a date in a
// year without an office calendar, the AD year to import.
const CalendarYearNeededField = "calendar_year_needed"

// CalendarYearNeeded returns the AD year whose office calendar err says is
// missing (issue 12: such a due date is pending, not an error), or 0 if err
// is about something else.
func CalendarYearNeeded(err error) int {
	var y *calendar.YearUnknownError
	if errors.As(err, &y) {
		return y.Year
	}
	var e *Error
	if errors.As(err, &e) && e.Rule == "R-MID-4" {
		if n, err := strconv.Atoi(e.Fields[CalendarYearNeededField]); err == nil {
			return n
		}
	}
	return 0
}

// DueDate returns the home-visit due date: the 10th working day after
// receipt, the day of receipt not counted (R-MID-4).
func DueDate(cal *calendar.Calendar, received calendar.Date) (calendar.Date, error) {
	d, err := cal.AddWorkdays(received, HomeVisitWorkdays)
	if err != nil {
		return calendar.Date{}, yearUnknown(err)
	}
	return d, nil
}

// ErrorFromCalendar maps a calendar error (an unknown year) to the domain
// error type.
func ErrorFromCalendar(err error) error { return yearUnknown(err) }

// CalendarWarnFrom is the day of the year (October 1) from which admins are
// warned that next year's office calendar is missing or provisional (issue
// 12): the published file usually appears in the summer, and due dates
// cross into the next year from mid-December.
const CalendarWarnFrom = time.October

// A CalendarOutlook says how far ahead due dates can be computed.
type CalendarOutlook struct {
	// LastDay is the last day of the unbroken run of years, from today's,
	// with an office calendar; zero if today's year has none.
	LastDay calendar.Date
	// NextYear and its status: official, provisional or "missing".
	NextYear       int
	NextYearStatus string
	// ThisYearStatus is today's year's: official, provisional or "missing".
	ThisYearStatus string
	// Warning is set when an admin must act: today's year is not
	// official, or, from October 1, next year's is not.
	Warning string
}

// Outlook returns the calendar outlook of cal on today.
func Outlook(cal *calendar.Calendar, today calendar.Date) CalendarOutlook {
	status := func(y int) string {
		if s, ok := cal.Status(y); ok {
			return string(s)
		}
		return "missing"
	}
	o := CalendarOutlook{NextYear: today.Year() + 1, ThisYearStatus: status(today.Year()), NextYearStatus: status(today.Year() + 1)}
	o.LastDay, _ = cal.CoveredThrough(today)
	warn := func(year int, s string) string {
		if s == "missing" {
			return fmt.Sprintf("the office calendar for %d is not imported: import the published file (PUT /v1/calendar/%d or bin/api calendar import)", year, year)
		}
		return fmt.Sprintf("the office calendar for %d is provisional (a transcription): import the published file (PUT /v1/calendar/%d or bin/api calendar import)", year, year)
	}
	switch {
	case o.ThisYearStatus != string(calendar.StatusOfficial):
		o.Warning = warn(today.Year(), o.ThisYearStatus)
	case today.Month() >= CalendarWarnFrom && o.NextYearStatus != string(calendar.StatusOfficial):
		o.Warning = warn(o.NextYear, o.NextYearStatus)
	}
	return o
}
