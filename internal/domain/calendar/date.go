// Package calendar holds civil dates and the Taiwan government office
// calendar (政府行政機關辦公日曆表): which days are working days, and how
// many working days lie between two dates. It imports no infrastructure.
package calendar

import (
	"errors"
	"fmt"
	"time"
)

// A Date is a civil date in the proleptic Gregorian calendar, without a
// time of day or a time zone. Dates are comparable with == and usable as
// map keys. The zero value is 0001-01-01. Text forms cover the years 1
// to 9999.
type Date struct {
	n int32 // days since 0001-01-01
}

// unixDays is the number of days from 0001-01-01 to 1970-01-01.
const unixDays = 719162

// NewDate returns the date y-m-d. Like [time.Date], it normalizes values
// outside their usual ranges: NewDate(2025, 2, 29) is 2025-03-01.
func NewDate(y int, m time.Month, d int) Date {
	return dateOfUTC(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the date that t falls on in loc. It panics if loc is nil.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}

// dateOfUTC returns the date of t, which must be a UTC midnight.
func dateOfUTC(t time.Time) Date {
	return Date{n: int32(t.Unix()/86400 + unixDays)}
}

// ParseDate parses a date in the form YYYY-MM-DD, such as "2026-03-05".
// It rejects any other form and dates that do not exist.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, errors.New("calendar: date must have the form YYYY-MM-DD")
	}
	y, ok1 := atoi(s[0:4])
	m, ok2 := atoi(s[5:7])
	d, ok3 := atoi(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, errors.New("calendar: date must have the form YYYY-MM-DD")
	}
	t, ok := validDate(y, m, d)
	if !ok {
		return Date{}, errors.New("calendar: no such date") // the value is not repeated: it may be a birth date
	}
	return t, nil
}

// validDate returns y-m-d and whether that date exists and lies in the
// years 1 to 9999.
func validDate(y, m, d int) (Date, bool) {
	t := NewDate(y, time.Month(m), d)
	return t, y >= 1 && y <= 9999 && t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// atoi parses a string of ASCII digits.
func atoi(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s != ""
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time {
	return time.Unix((int64(d.n)-unixDays)*86400, 0).UTC()
}

// Year returns the AD year of d.
func (d Date) Year() int { return d.Time().Year() }

// Month returns the month of d.
func (d Date) Month() time.Month { return d.Time().Month() }

// Day returns the day of the month of d.
func (d Date) Day() int { return d.Time().Day() }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.Time().Weekday() }

// AddDays returns the date n days after d (before d if n is negative).
func (d Date) AddDays(n int) Date { return Date{n: d.n + int32(n)} }

// MonthsEarlier returns the same day of the month n months before d;
// where that month has no such day, its last day (2026-03-31 → 2026-02-28
// for n = 1). It never rolls forward into the next month as
// [time.Time.AddDate] does (R-DOC-1 item 5, R-ENR-1).
func (d Date) MonthsEarlier(n int) Date {
	y, m, day := d.Time().Date()
	first := time.Date(y, m-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return NewDate(first.Year(), first.Month(), min(day, last))
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.n < e.n }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.n > e.n }

// IsZero reports whether d is the zero Date, 0001-01-01.
func (d Date) IsZero() bool { return d.n == 0 }

// String returns d in the form YYYY-MM-DD.
func (d Date) String() string {
	y, m, day := d.Time().Date()
	if y < 0 || y > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", y, int(m), day)
	}
	// By hand: the projector formats a date for most events it folds.
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + day/10), byte('0' + day%10)}
	return string(b[:])
}

// ROC returns d in the Republic of China era, as in "民國115年3月5日"
// (ROC year = AD year − 1911; years before 1912 read "民國前N年").
func (d Date) ROC() string {
	y, m, day := d.Time().Date()
	if y <= 1911 {
		return fmt.Sprintf("民國前%d年%d月%d日", 1912-y, int(m), day)
	}
	return fmt.Sprintf("民國%d年%d月%d日", y-1911, int(m), day)
}

// MarshalText implements [encoding.TextMarshaler]; the form is
// YYYY-MM-DD, which is also how a Date appears in JSON.
func (d Date) MarshalText() ([]byte, error) {
	if y := d.Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("calendar: year %d outside 1-9999 cannot be marshaled", y)
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler], accepting the form
// of [ParseDate].
func (d *Date) UnmarshalText(b []byte) error {
	t, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = t
	return nil
}
