package calendar

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrYearUnknown is matched, with [errors.Is], by the errors of a
// [Calendar] asked about a year it has no table for. The error is a
// *YearUnknownError naming the year.
var ErrYearUnknown = errors.New("calendar: year unknown")

// A YearUnknownError reports a date in a year that a [Calendar] has no
// table for. Working days are never guessed.
type YearUnknownError struct {
	Year int
}

func (e *YearUnknownError) Error() string {
	return fmt.Sprintf("calendar: no office calendar for the year %d", e.Year)
}

// Is reports whether target is [ErrYearUnknown].
func (e *YearUnknownError) Is(target error) bool { return target == ErrYearUnknown }

// A Calendar tells working days from days off, from one [YearTable] per
// covered year and a set of ad-hoc closures (停班, such as typhoon days). A
// Calendar is immutable: the With methods return a modified copy, so a
// *Calendar may be shared between goroutines. The zero value covers no
// year.
type Calendar struct {
	years       map[int]YearTable
	closures    map[Date]bool
	provisional map[int]bool // years whose table is not the published file
}

// New returns a calendar of the given years; a later table of the same
// year replaces an earlier one. It panics if a table is the zero
// YearTable.
func New(years ...YearTable) *Calendar {
	return (&Calendar{}).WithYear(years...)
}

// Default returns a calendar of the built-in office calendar, the years
// [BuiltinYears], without closures. Each call builds a new Calendar.
func Default() *Calendar {
	var official, provisional []YearTable
	for _, y := range BuiltinYears() {
		t, _ := Builtin(y)
		if s, _ := BuiltinStatus(y); s == StatusProvisional {
			provisional = append(provisional, t)
		} else {
			official = append(official, t)
		}
	}
	return New(official...).WithProvisionalYear(provisional...)
}

// WithYear returns a copy of c in which each table replaces the one of its
// year, if any, as when a revised calendar is imported; the year's status
// becomes [StatusOfficial]. Closures are kept. It panics if a table is
// the zero YearTable.
func (c *Calendar) WithYear(tables ...YearTable) *Calendar {
	return c.withYear(false, tables)
}

// WithProvisionalYear is [Calendar.WithYear] for tables that are not the
// published file, such as a transcription: their years' status is
// [StatusProvisional] until an official table replaces them.
func (c *Calendar) WithProvisionalYear(tables ...YearTable) *Calendar {
	return c.withYear(true, tables)
}

func (c *Calendar) withYear(provisional bool, tables []YearTable) *Calendar {
	n := &Calendar{years: maps.Clone(c.years), closures: c.closures, provisional: maps.Clone(c.provisional)}
	if n.years == nil {
		n.years = map[int]YearTable{}
	}
	if n.provisional == nil {
		n.provisional = map[int]bool{}
	}
	for _, t := range tables {
		if t.year == 0 {
			panic("calendar: zero YearTable")
		}
		n.years[t.year] = t
		if provisional {
			n.provisional[t.year] = true
		} else {
			delete(n.provisional, t.year)
		}
	}
	return n
}

// WithClosure returns a copy of c in which offices are closed on the given
// days. A closure on a day off changes nothing; a closure in a year c has
// no table for takes effect once that year is added.
func (c *Calendar) WithClosure(days ...Date) *Calendar {
	n := &Calendar{years: c.years, closures: maps.Clone(c.closures), provisional: c.provisional}
	if n.closures == nil {
		n.closures = map[Date]bool{}
	}
	for _, d := range days {
		n.closures[d] = true
	}
	return n
}

// Years returns the years c has tables for, in ascending order.
func (c *Calendar) Years() []int {
	return slices.Sorted(maps.Keys(c.years))
}

// IsWorkday reports whether d is a working day: not a day off in its year's
// table and not a closure. The error is a *YearUnknownError if c has no
// table for d's year.
func (c *Calendar) IsWorkday(d Date) (bool, error) {
	t, ok := c.years[d.Year()]
	if !ok {
		return false, &YearUnknownError{Year: d.Year()}
	}
	off, _ := t.DayOff(d)
	return !off && !c.closures[d], nil
}

// AddWorkdays returns the n-th working day after from; from itself never
// counts, as a period under 行政程序法 §48 starts the day after receipt. It
// returns from for n = 0 and an error for n < 0, or if a year on the way
// is unknown (a *YearUnknownError).
func (c *Calendar) AddWorkdays(from Date, n int) (Date, error) {
	if n < 0 {
		return Date{}, fmt.Errorf("calendar: negative number of working days %d", n)
	}
	if _, ok := c.years[from.Year()]; !ok {
		return Date{}, &YearUnknownError{Year: from.Year()}
	}
	d := from
	for n > 0 {
		d = d.AddDays(1)
		w, err := c.IsWorkday(d)
		if err != nil {
			return Date{}, err
		}
		if w {
			n--
		}
	}
	return d, nil
}

// WorkdaysBetween returns the number of working days after from up to and
// including to. It is 0 if to is from, and negative if to is before from:
// WorkdaysBetween(from, to) = −WorkdaysBetween(to, from). So
// WorkdaysBetween(today, deadline) is the working days left, 0 on the
// deadline and negative when overdue, and WorkdaysBetween(from,
// AddWorkdays(from, n)) = n. The error is a *YearUnknownError if a year
// from from to to is unknown.
func (c *Calendar) WorkdaysBetween(from, to Date) (int, error) {
	sign := 1
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	if _, ok := c.years[from.Year()]; !ok {
		return 0, &YearUnknownError{Year: from.Year()}
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		w, err := c.IsWorkday(d)
		if err != nil {
			return 0, err
		}
		if w {
			n++
		}
	}
	return sign * n, nil
}
