package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// Due statuses (issue 12).
const (
	// DueScheduled: the due date is computed; calendar_status says how
	// firm the calendar behind it is.
	DueScheduled = "scheduled"
	// DuePendingCalendar: the due date falls in, or runs through, a year
	// with no office calendar; it is shown once that year is imported.
	DuePendingCalendar = "pending_calendar"
)

// DueFields say how a due date shown by the API stands: computed from an
// official or a provisional calendar, or pending a year's calendar.
type DueFields struct {
	DueStatus string `json:"due_status,omitempty"`
	// CalendarStatus is "official" or "provisional" (a year built in from a
	// transcription, until its published file is imported: the date may
	// still move).
	CalendarStatus string `json:"calendar_status,omitempty"`
	// CalendarYearNeeded is the AD year to import, when pending.
	CalendarYearNeeded int `json:"calendar_year_needed,omitempty"`
}

// dueFields returns the fields of a due date computed from cal, from
// from, with the result due and err.
func dueFields(cal *calendar.Calendar, from, due calendar.Date, err error) DueFields {
	if err != nil {
		if y := domain.CalendarYearNeeded(err); y != 0 {
			return DueFields{DueStatus: DuePendingCalendar, CalendarYearNeeded: y}
		}
		return DueFields{}
	}
	return DueFields{DueStatus: DueScheduled, CalendarStatus: string(cal.StatusBetween(from, due))}
}

// worseStatus returns the less firm of two calendar statuses.
func worseStatus(a string, b calendar.Status) string {
	if a == string(calendar.StatusProvisional) || b == calendar.StatusProvisional {
		return string(calendar.StatusProvisional)
	}
	return a
}

// Workdays is the body of GET /v1/calendar/workdays.
type Workdays struct {
	From string `json:"from"`
	Add  int    `json:"add"`
	Due  string `json:"due"`
	Rule string `json:"rule"`
	// CalendarStatus is "official", or "provisional" if a year from from
	// to due is built in from a transcription (issue 12).
	CalendarStatus string `json:"calendar_status"`
}

// workdays serves GET /v1/calendar/workdays. A range into a year with no
// office calendar is a 422 naming the year (errors.calendar_year_needed),
// never a guess.
func (s *Server) workdays(c echo.Context) error {
	from, err := calendar.ParseDate(c.QueryParam("from"))
	if err != nil {
		return domain.Invalid(map[string]string{"from": "must be a date YYYY-MM-DD"})
	}
	add := domain.HomeVisitWorkdays
	if v := c.QueryParam("add"); v != "" {
		if add, err = strconv.Atoi(v); err != nil || add < 0 || add > 366 {
			return domain.Invalid(map[string]string{"add": "must be an integer from 0 to 366"})
		}
	}
	cal, err := s.calendarFor(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	due, err := cal.AddWorkdays(from, add)
	if err != nil {
		return domain.ErrorFromCalendar(err)
	}
	return c.JSON(http.StatusOK, Workdays{From: from.String(), Add: add, Due: due.String(),
		Rule:           "the day of receipt is not counted (行政程序法 §48); R-MID-4",
		CalendarStatus: string(cal.StatusBetween(from, due))})
}
