package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"cihui/internal/domain/calendar"
)

// A Semester is one term of an academic year (R-ENR-2): term 1 runs
// Aug 1 – Jan 31, term 2 Feb 1 – Jul 31. Year is the ROC academic year.
type Semester struct {
	Year, Term int
}

// SemesterOf returns the semester that d falls in.
func SemesterOf(d calendar.Date) Semester {
	y := d.Year() - 1911
	switch {
	case d.Month() >= time.August:
		return Semester{y, 1}
	case d.Month() == time.January:
		return Semester{y - 1, 1}
	}
	return Semester{y - 1, 2}
}

// ParseSemester parses "<ROC year>-<1|2>" such as "115-1", the year in the
// plausible window.
func ParseSemester(s string) (Semester, error) {
	y, t, ok := strings.Cut(s, "-")
	n, err := strconv.Atoi(y)
	if !ok || len(y) != 3 || err != nil || y[0] < '0' || y[0] > '9' || n < MinAcademicYear || n > MaxAcademicYear || (t != "1" && t != "2") {
		return Semester{}, Invalid(map[string]string{"semester": "must be <ROC year>-<1|2>, e.g. 115-1"})
	}
	return Semester{n, int(t[0] - '0')}, nil
}

// String returns the label, e.g. "115-1".
func (s Semester) String() string { return fmt.Sprintf("%d-%d", s.Year, s.Term) }

// Next returns the semester after s.
func (s Semester) Next() Semester {
	if s.Term == 1 {
		return Semester{s.Year, 2}
	}
	return Semester{s.Year + 1, 1}
}

// Before reports whether s is earlier than t.
func (s Semester) Before(t Semester) bool {
	return s.Year < t.Year || (s.Year == t.Year && s.Term < t.Term)
}

// MissingRegistrations lists, in order, each semester from the one the
// student enrolled in up to the one today falls in that has no recorded
// registration at the origin school (R-ENR-2).
func MissingRegistrations(enrolledOn, today calendar.Date, recorded []string) []string {
	have := map[string]bool{}
	for _, s := range recorded {
		have[s] = true
	}
	out := []string{}
	end := SemesterOf(today)
	for s := SemesterOf(enrolledOn); !end.Before(s); s = s.Next() {
		if !have[s.String()] {
			out = append(out, s.String())
		}
	}
	return out
}
