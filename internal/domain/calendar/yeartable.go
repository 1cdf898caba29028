package calendar

import (
	"fmt"
	"math/bits"
	"time"
)

// A YearTable says, for every day of one AD year, whether government
// offices are closed. It is a small comparable value; the zero value is
// not a valid table. Build one with [NewYearTable], [ParseOfficeCSV] or
// [Builtin].
type YearTable struct {
	year int
	off  [6]uint64 // bit i set: day i of the year (0 = Jan 1) is a day off
}

// NewYearTable returns the table of year (1 to 9999) from days, which maps
// every date of that year, and no other, to true for a day off and false
// for a working day.
func NewYearTable(year int, days map[Date]bool) (YearTable, error) {
	if year < 1 || year > 9999 {
		return YearTable{}, fmt.Errorf("calendar: year %d outside 1-9999", year)
	}
	t := YearTable{year: year}
	for d, off := range days {
		i, ok := t.index(d)
		if !ok {
			return YearTable{}, fmt.Errorf("calendar: table for %d has date %s outside that year", year, d)
		}
		if off {
			t.off[i/64] |= 1 << (i % 64)
		}
	}
	if n := daysIn(year); len(days) != n {
		return YearTable{}, fmt.Errorf("calendar: table for %d has %d days, want %d", year, len(days), n)
	}
	return t, nil
}

// weekendTable returns the table of year in which exactly the Saturdays
// and Sundays are days off.
func weekendTable(year int) YearTable {
	t := YearTable{year: year}
	first := NewDate(year, time.January, 1)
	for i := range daysIn(year) {
		if isWeekend(first.AddDays(i)) {
			t.off[i/64] |= 1 << (i % 64)
		}
	}
	return t
}

// Year returns the AD year that t covers.
func (t YearTable) Year() int { return t.year }

// DayOff reports whether offices are closed on d; ok is false if d is not
// in t's year.
func (t YearTable) DayOff(d Date) (off, ok bool) {
	i, ok := t.index(d)
	if !ok {
		return false, false
	}
	return t.off[i/64]&(1<<(i%64)) != 0, true
}

// Workdays returns the number of working days in t's year.
func (t YearTable) Workdays() int {
	n := daysIn(t.year)
	for _, w := range t.off {
		n -= bits.OnesCount64(w)
	}
	return n
}

// index returns the day of the year of d, 0 for January 1.
func (t YearTable) index(d Date) (int, bool) {
	i := int(d.n - NewDate(t.year, time.January, 1).n)
	return i, t.year != 0 && i >= 0 && i < daysIn(t.year)
}

// daysIn returns the number of days in year.
func daysIn(year int) int {
	return int(NewDate(year+1, time.January, 1).n - NewDate(year, time.January, 1).n)
}

// isWeekend reports whether d is a Saturday or a Sunday.
func isWeekend(d Date) bool {
	w := d.Weekday()
	return w == time.Saturday || w == time.Sunday
}
