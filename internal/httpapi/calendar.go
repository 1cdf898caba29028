package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

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

// CalendarReadiness is the calendar object of /readyz (issue 12): how far
// ahead due dates can be computed for the default branch, and a warning
// for admins when a year must be imported. It never makes the API unready.
type CalendarReadiness struct {
	Branch         string `json:"branch"`
	LastDay        string `json:"last_day,omitempty"`
	ThisYearStatus string `json:"this_year_status"`
	NextYear       int    `json:"next_year"`
	NextYearStatus string `json:"next_year_status"`
	Warning        string `json:"warning,omitempty"`
}

// calendarOutlook returns the default branch's calendar outlook today.
func (s *Server) calendarOutlook(ctx context.Context) (domain.CalendarOutlook, error) {
	if s.app == nil {
		return domain.CalendarOutlook{}, errors.New("no application service")
	}
	cal, err := s.app.Calendar(ctx, domain.DefaultBranchCode)
	if err != nil {
		return domain.CalendarOutlook{}, err
	}
	return domain.Outlook(cal, s.today()), nil
}

// calendarReadiness returns the calendar object of /readyz, or nil if the
// calendar cannot be read (NATS down: /readyz says so already).
func (s *Server) calendarReadiness(ctx context.Context) *CalendarReadiness {
	o, err := s.calendarOutlook(ctx)
	if err != nil {
		return nil
	}
	r := &CalendarReadiness{Branch: domain.DefaultBranchCode, ThisYearStatus: o.ThisYearStatus,
		NextYear: o.NextYear, NextYearStatus: o.NextYearStatus, Warning: o.Warning}
	if !o.LastDay.IsZero() {
		r.LastDay = o.LastDay.String()
	}
	return r
}

// calendarMetrics returns the gauges of the calendar ahead, read at each
// scrape:
//
//   - cihui_calendar_last_day: the Unix time (seconds) of 00:00 Taipei on
//     the last day covered by an office calendar, so that an alerting rule
//     can compare it with time(), e.g.
//     cihui_calendar_last_day - time() < 92*86400 fires from about Oct 1;
//     0 if today's year has none.
//   - cihui_calendar_next_year_provisional: 1 if next year's calendar is a
//     provisional transcription, else 0 (missing shows in last_day).
//
// Both are NaN while the calendar cannot be read.
func (s *Server) calendarMetrics() []prometheus.Collector {
	read := func(f func(domain.CalendarOutlook) float64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			o, err := s.calendarOutlook(ctx)
			if err != nil {
				return math.NaN()
			}
			return f(o)
		}
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cihui_calendar_last_day",
			Help: "Unix time of 00:00 Taipei on the last day covered by an office calendar (default branch); 0 if today's year has none."},
			read(func(o domain.CalendarOutlook) float64 {
				if o.LastDay.IsZero() {
					return 0
				}
				return float64(time.Date(o.LastDay.Year(), o.LastDay.Month(), o.LastDay.Day(), 0, 0, 0, 0, domain.Taipei).Unix())
			})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cihui_calendar_next_year_provisional",
			Help: "1 if next year's office calendar is a provisional transcription (default branch), else 0."},
			read(func(o domain.CalendarOutlook) float64 {
				if o.NextYearStatus == string(calendar.StatusProvisional) {
					return 1
				}
				return 0
			})),
	}
}
