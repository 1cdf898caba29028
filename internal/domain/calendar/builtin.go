package calendar

import (
	"fmt"
	"time"
)

//go:generate go run ./internal/gen -data ../../../../shared/data/tw-office-calendar -provisional ../../../../shared/data/tw-office-calendar-provisional -o builtin_table.go

// BuiltinYears returns the AD years of the built-in office calendar, in
// ascending order.
func BuiltinYears() []int { return builtinYears() }

// Builtin returns the built-in office calendar of an AD year, generated
// from the published files (for 2025, the reissue of 2025-10-20) or, for a
// year whose file is not at hand, a transcription ([BuiltinStatus] says
// which); ok is false for a year not built in.
func Builtin(year int) (t YearTable, ok bool) {
	off, work, _, ok := builtinExceptions(year)
	if !ok {
		return YearTable{}, false
	}
	t, err := fromExceptions(year, off, work)
	if err != nil {
		panic(err) // builtin_table.go is corrupt; TestBuiltin catches it
	}
	return t, true
}

// fromExceptions returns the table of year in which the days off are the
// weekends, plus the weekdays off, minus the weekend working days work.
// Both lists hold dates as MMDD numbers.
func fromExceptions(year int, off, work []uint16) (YearTable, error) {
	t := weekendTable(year)
	set := func(mmdd uint16, dayOff bool) error {
		d, ok := validDate(year, int(mmdd/100), int(mmdd%100))
		if !ok {
			return fmt.Errorf("calendar: built-in %d: no such date %04d", year, mmdd)
		}
		if was, _ := t.DayOff(d); was == dayOff || isWeekend(d) == dayOff {
			return fmt.Errorf("calendar: built-in %d: %s (%s) repeated or not an exception", year, d, d.Weekday())
		}
		i, _ := t.index(d)
		t.off[i/64] ^= 1 << (i % 64)
		return nil
	}
	for _, mmdd := range off {
		if err := set(mmdd, true); err != nil {
			return YearTable{}, err
		}
	}
	for _, mmdd := range work {
		if err := set(mmdd, false); err != nil {
			return YearTable{}, err
		}
	}
	return t, nil
}

// Exceptions returns the days of t that break the Monday–Friday rule: off
// lists the weekdays that are days off and work the Saturdays and Sundays
// that are working days, both in date order.
func (t YearTable) Exceptions() (off, work []Date) {
	first := NewDate(t.year, time.January, 1)
	for i := range daysIn(t.year) {
		d := first.AddDays(i)
		dayOff, _ := t.DayOff(d)
		switch weekend := isWeekend(d); {
		case dayOff && !weekend:
			off = append(off, d)
		case !dayOff && weekend:
			work = append(work, d)
		}
	}
	return off, work
}

// BuiltinStatus returns whether the built-in table of year is the
// published file ([StatusOfficial]) or a transcription
// ([StatusProvisional]); ok is false for a year not built in.
func BuiltinStatus(year int) (s Status, ok bool) {
	_, _, s, ok = builtinExceptions(year)
	return s, ok
}
