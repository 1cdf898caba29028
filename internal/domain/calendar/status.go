package calendar

import "time"

// A Status says where a year's table comes from.
type Status string

const (
	// StatusOfficial: the published file of the year (built in or
	// imported).
	StatusOfficial Status = "official"
	// StatusProvisional: a transcription carried until the published file
	// is imported; dates computed from it may still move.
	StatusProvisional Status = "provisional"
)

// Status returns the status of c's table of year; ok is false if c has no
// table for year.
func (c *Calendar) Status(year int) (s Status, ok bool) {
	if _, ok := c.years[year]; !ok {
		return "", false
	}
	if c.provisional[year] {
		return StatusProvisional, true
	}
	return StatusOfficial, true
}

// StatusBetween returns [StatusProvisional] if the table of any year from
// a's to b's (in either order) is provisional, else [StatusOfficial]: a
// date computed across those years is only as firm as its weakest year.
// Unknown years do not count; the computation fails on them anyway.
func (c *Calendar) StatusBetween(a, b Date) Status {
	lo, hi := a.Year(), b.Year()
	if hi < lo {
		lo, hi = hi, lo
	}
	for y := lo; y <= hi; y++ {
		if c.provisional[y] {
			return StatusProvisional
		}
	}
	return StatusOfficial
}

// CoveredThrough returns the last day of the unbroken run of years, from
// from's year on, that c has tables for: working days up to it can be
// counted without a gap. ok is false if c has no table for from's year.
func (c *Calendar) CoveredThrough(from Date) (d Date, ok bool) {
	y := from.Year()
	if _, ok := c.years[y]; !ok {
		return Date{}, false
	}
	for {
		if _, ok := c.years[y+1]; !ok {
			return NewDate(y, time.December, 31), true
		}
		y++
	}
}
