package domain

import (
	"maps"
	"slices"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// The dated roster (R-CAP-1 decision): "at the same time" is per date. A
// seat is held from the day the admission takes effect (a start-of-year
// admission: Aug 1 of the academic year it enrols into; a mid-year one:
// the day the meeting closes or the place is offered) to its last day (a
// grade-9 student graduates on Jul 31; an exit; a declined place), and on
// no day do more than the cap hold a seat.

// Seat endings (SeatReleased.Ending) and the end states they give a case.
const (
	EndingDeclined  = "declined"  // an admission not taken up
	EndingWithdrawn = "withdrawn" // a waiting case left the list
	EndingGraduated = "graduated" // grade 9, Jul 31
	EndingLapsed    = "lapsed"    // a waiting-list entry at the end of its year
	EndingSuspended = "suspended" // 中止就讀, a committee resolution (R-SUS-2..4)
	EndingLeft      = "left"      // recorded before endings were carried
)

// AcademicYearOf returns the ROC academic year d falls in: Aug 1 – Jul 31.
func AcademicYearOf(d calendar.Date) int {
	y := d.Year() - 1911
	if d.Month() < time.August {
		y--
	}
	return y
}

// YearStart is Aug 1 of ROC academic year year; YearEnd its Jul 31.
func YearStart(year int) calendar.Date { return calendar.NewDate(year+1911, time.August, 1) }

// YearEnd is the last day of ROC academic year year, Jul 31.
func YearEnd(year int) calendar.Date { return calendar.NewDate(year+1912, time.July, 31) }

// GraduationDay is the day a student in grade grade in academic year year
// graduates: Jul 31 of the year the student is in grade 9 (R-CAP-1).
func GraduationDay(grade, year int) calendar.Date { return YearEnd(year + MaxGrade - grade) }

// SecondSemester reports whether d is in a second semester, Feb 1 – Jul 31
// (R-ENR-2, R-EXCL-4).
func SecondSemester(d calendar.Date) bool {
	return d.Month() >= time.February && d.Month() <= time.July
}

// CheckTransfer applies R-EXCL-4 to a transfer in or out that takes
// effect on day on, for a student in grade grade on that day: a grade-9
// student in the second semester (Feb 1 – Jul 31) is transferred only for
// a recorded major reason.
func CheckTransfer(grade int, on calendar.Date, majorReason bool) error {
	if grade == MaxGrade && SecondSemester(on) && !majorReason {
		return RuleError("R-EXCL-4", "a grade-9 student in the second semester (%s) is transferred only for a recorded major reason", on)
	}
	return nil
}

// GradeOn is the holder's grade on d (0: unknown): grades advance on
// Aug 1.
func (s Seat) GradeOn(d calendar.Date) int {
	if s.Grade == 0 {
		return 0
	}
	return s.Grade + AcademicYearOf(d) - s.GradeYear
}

// HoldsOn reports whether the seat is held on d.
func (s Seat) HoldsOn(d calendar.Date) bool {
	return !d.Before(s.From) && (s.Last == nil || !d.After(*s.Last))
}

// SeatOf is the seat a SeatTaken recorded on day on gives (the defaults
// of an event recorded before dates were carried: from on, open-ended).
func SeatOf(e events.SeatTaken, on calendar.Date) Seat { return seatTaken(e, on) }

// EnrolSeat is s after a SeatEnrolled recorded on day on.
func EnrolSeat(s Seat, e events.SeatEnrolled, on calendar.Date) Seat { return seatEnrolled(s, e, on) }

func seatTaken(e events.SeatTaken, on calendar.Date) Seat {
	s := Seat{CaseID: e.CaseID, PersonKey: e.PersonKey, From: on, Grade: e.Grade, GradeYear: e.GradeYear}
	if e.From != nil {
		s.From = *e.From
	}
	switch {
	case e.Last != nil:
		last := *e.Last
		s.Last = &last
	case s.Grade > 0:
		last := GraduationDay(s.Grade, s.GradeYear)
		s.Last = &last
	}
	return s
}

func seatEnded(s Seat, e events.SeatReleased, on calendar.Date) Seat {
	// An event recorded before the last day was carried: the holder left
	// on the event's day, so the seat was last held the day before.
	last := on.AddDays(-1)
	if e.Last != nil {
		last = *e.Last
	}
	s.Last = &last
	s.Ending = e.Ending
	if s.Ending == "" {
		s.Ending = EndingLeft
	}
	return s
}

func seatEnrolled(s Seat, e events.SeatEnrolled, on calendar.Date) Seat {
	s.Enrolled, s.EnrolledOn, s.Class = true, on, e.Class
	if e.Grade > 0 {
		// The grade enrolled in is the grade of the year the seat holds
		// from (an enrolment recorded before Aug 1 for a start-of-year
		// place counts in the year it starts).
		s.Grade, s.GradeYear = e.Grade, max(AcademicYearOf(on), AcademicYearOf(s.From))
		last := GraduationDay(s.Grade, s.GradeYear)
		s.Last = &last
	}
	return s
}

// Clone returns a deep copy, for planning several changes in turn.
func (r *Roster) Clone() *Roster {
	c := *r
	c.Seats = maps.Clone(r.Seats)
	if c.Seats == nil {
		c.Seats = map[string]Seat{}
	}
	c.Persons = maps.Clone(r.Persons)
	if c.Persons == nil {
		c.Persons = map[string]string{}
	}
	c.Ended = slices.Clone(r.Ended)
	c.Waiting = slices.Clone(r.Waiting)
	c.RolledOver = maps.Clone(r.RolledOver)
	c.Proposals = maps.Clone(r.Proposals)
	return &c
}

// Plan folds an event a command is about to record on day on into the
// roster (a Clone), so the next decision of the same command sees it.
func (r *Roster) Plan(ev events.Event, on calendar.Date) { r.applyOn(ev, on) }

// each calls f for every seat, held now or ended.
func (r *Roster) each(f func(Seat)) {
	for _, s := range r.Seats {
		f(s)
	}
	for _, s := range r.Ended {
		f(s)
	}
}

// HoldersOn returns the seats held on d, in order of case id.
func (r *Roster) HoldersOn(d calendar.Date) []Seat {
	var out []Seat
	r.each(func(s Seat) {
		if s.HoldsOn(d) {
			out = append(out, s)
		}
	})
	slices.SortFunc(out, func(a, b Seat) int {
		switch {
		case a.CaseID < b.CaseID:
			return -1
		case a.CaseID > b.CaseID:
			return 1
		}
		return 0
	})
	return out
}

// HeldOn is the number of seats held on d.
func (r *Roster) HeldOn(d calendar.Date) int {
	n := 0
	r.each(func(s Seat) {
		if s.HoldsOn(d) {
			n++
		}
	})
	return n
}

// MaxHeld is the most seats held on any one day from from to last
// (inclusive; nil: open-ended). The count only rises on a seat's first
// day, so the days to look at are from and every first day in the range.
func (r *Roster) MaxHeld(from calendar.Date, last *calendar.Date) int {
	days := []calendar.Date{from}
	r.each(func(s Seat) {
		if s.From.After(from) && (last == nil || !s.From.After(*last)) {
			days = append(days, s.From)
		}
	})
	most := 0
	for _, d := range days {
		most = max(most, r.HeldOn(d))
	}
	return most
}

// FreeOn is the number of seats free on every day from from to last
// (nil: open-ended) under capacity: how many more could hold a seat over
// that whole range (R-CAP-1).
func (r *Roster) FreeOn(capacity int, from calendar.Date, last *calendar.Date) int {
	return max(0, capacity-r.MaxHeld(from, last))
}

// SeatRange is the range a seat taken for r on day on is held (R-CAP-1
// decision): from Aug 1 of the academic year for a start-of-year
// admission (or from on, when that is later), from on for a mid-year one
// (not before its academic year starts); to the planned graduation day.
// grade is the student's grade in academic year gradeYear.
func SeatRange(r *Referral, on calendar.Date) (from, last calendar.Date, grade, gradeYear int) {
	grade, gradeYear = r.GradeIn()
	from = on
	if start := YearStart(r.AcademicYear); from.Before(start) {
		from = start
	}
	if grade == 0 {
		return from, calendar.Date{}, 0, 0
	}
	return from, GraduationDay(grade, gradeYear), grade, gradeYear
}

// GradeIn returns the student's grade and the academic year it is the
// grade of: the grade filed for the referral's year, or the last one the
// roll-over advanced it to.
func (r *Referral) GradeIn() (grade, year int) {
	if r.Admission.GradeYear != 0 {
		return r.Grade, r.Admission.GradeYear
	}
	return r.Grade, r.AcademicYear
}

// GradeOn is the student's grade on d (grades advance on Aug 1).
func (r *Referral) GradeOn(d calendar.Date) int {
	g, y := r.GradeIn()
	return g + AcademicYearOf(d) - y
}

// TakeSeat returns the SeatTaken giving r a place from day on, if a seat
// is free on every day of its range under capacity, and folds it into the
// roster (a Clone being planned on). R-EXCL-4: the transfer in takes
// effect on the seat's first day, against the grade on that day.
func (r *Roster) TakeSeat(c *Referral, on calendar.Date, capacity int) (events.SeatTaken, bool, error) {
	from, last, grade, gradeYear := SeatRange(c, on)
	if err := CheckTransfer(c.GradeOn(from), from, c.Admission.MajorReason); err != nil {
		return events.SeatTaken{}, false, err
	}
	var lastp *calendar.Date
	if !last.IsZero() {
		lastp = &last
	}
	if r.FreeOn(capacity, from, lastp) == 0 {
		return events.SeatTaken{}, false, nil
	}
	e := events.SeatTaken{CaseID: c.ID, PersonKey: c.PersonKey, Cap: capacity, From: &from, Last: lastp, Grade: grade, GradeYear: gradeYear}
	r.Plan(e, on)
	e.Taken = r.HeldOn(from)
	return e, true, nil
}

// EndSeat returns the SeatReleased ending caseID's seat with last as its
// last day held (the day before the exit takes effect; Jul 31 for a
// graduate) and folds it into the roster (a Clone being planned on), so
// seats freed by a command can be filled by the same command. ending is
// one of the Ending codes.
func (r *Roster) EndSeat(caseID string, last calendar.Date, ending string) (events.SeatReleased, error) {
	if _, ok := r.Seats[caseID]; !ok {
		return events.SeatReleased{}, Errorf(EConflict, "the roster holds no place for the case")
	}
	e := events.SeatReleased{CaseID: caseID, Last: &last, Ending: ending}
	r.Plan(e, last.AddDays(1))
	return e, nil
}
