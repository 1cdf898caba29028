package domain

import (
	"fmt"
	"slices"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// Roster is a branch's places: who holds one (admitted, awaiting
// enrolment, or enrolled in a class) and the waiting list in order of
// application time. Every change to it is guarded by the roster stream's
// expected sequence, so the cap holds in the event log itself (R-CAP-1).
// Seats are held over date ranges (R-CAP-1 decision): Seats are the
// places not yet released (each with its first day and planned last day),
// Ended the released ones with their last day, so the roster answers for
// any date (roster_dates.go).
type Roster struct {
	Seats map[string]Seat
	// Ended are released seats, in order of release.
	Ended []Seat
	// Persons maps the person key of each student holding a place to the
	// case that holds it: seats are the person's, not the case's (R-CAP-1).
	Persons map[string]string
	Waiting []WaitEntry
	// RolledOver: the academic years whose roll-over is recorded, and
	// Proposals the class proposal of each, until confirmed.
	RolledOver map[int]bool
	Proposals  map[int][]events.ClassAssignment
	Version    uint64
	LastSeq    uint64
}

// Seat is one taken place.
type Seat struct {
	CaseID    string
	PersonKey string
	Enrolled  bool
	// EnrolledOn is the day the holder enrolled (zero: not yet).
	EnrolledOn calendar.Date
	// Grade is the holder's grade in academic year GradeYear (0: unknown,
	// a seat recorded before grades were carried and not yet enrolled).
	Grade     int
	GradeYear int
	Class     string
	// From is the first day the seat is held; Last the last (nil:
	// open-ended). For a seat not released Last is the planned graduation
	// day when the grade is known; Ending says why a released seat ended.
	From   calendar.Date
	Last   *calendar.Date
	Ending string
}

// WaitEntry is one case on the waiting list.
type WaitEntry struct {
	CaseID              string `json:"case_id"`
	ApplicationPosition uint64 `json:"application_position"`
}

// Apply folds one roster event.
func (r *Roster) Apply(env events.Envelope) {
	r.applyOn(env.Payload, calendar.DateOf(env.OccurredAt, Taipei))
	r.Version = env.Version
	r.LastSeq = env.Position
}

// applyOn folds a roster event recorded on day on (the default of the
// dates events recorded before the dated roster do not carry).
func (r *Roster) applyOn(ev events.Event, on calendar.Date) {
	if r.Seats == nil {
		r.Seats = map[string]Seat{}
	}
	if r.Persons == nil {
		r.Persons = map[string]string{}
	}
	switch e := ev.(type) {
	case events.SeatTaken:
		r.Seats[e.CaseID] = seatTaken(e, on)
		if e.PersonKey != "" {
			r.Persons[e.PersonKey] = e.CaseID
		}
		r.Waiting = slices.DeleteFunc(r.Waiting, func(w WaitEntry) bool { return w.CaseID == e.CaseID })
	case events.SeatReleased:
		s, ok := r.Seats[e.CaseID]
		if ok && s.PersonKey != "" && r.Persons[s.PersonKey] == e.CaseID {
			delete(r.Persons, s.PersonKey)
		}
		if ok {
			r.Ended = append(r.Ended, seatEnded(s, e, on))
		}
		delete(r.Seats, e.CaseID)
	case events.WaitlistJoined:
		if !slices.ContainsFunc(r.Waiting, func(w WaitEntry) bool { return w.CaseID == e.CaseID }) {
			r.Waiting = append(r.Waiting, WaitEntry{CaseID: e.CaseID, ApplicationPosition: e.ApplicationPosition})
			slices.SortStableFunc(r.Waiting, func(a, b WaitEntry) int { return cmpU64(a.ApplicationPosition, b.ApplicationPosition) })
		}
	case events.WaitlistLeft:
		r.Waiting = slices.DeleteFunc(r.Waiting, func(w WaitEntry) bool { return w.CaseID == e.CaseID })
	case events.SeatEnrolled:
		if s, ok := r.Seats[e.CaseID]; ok {
			r.Seats[e.CaseID] = seatEnrolled(s, e, on)
		}
	case events.YearRolledOver:
		r.rolledOver(e)
	case events.ClassesConfirmed:
		r.classesConfirmed(e)
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// HeldBy returns the case through which the person with the given key
// holds a place, if any (R-CAP-1: one student, one place).
func (r *Roster) HeldBy(personKey string) (string, bool) {
	if personKey == "" {
		return "", false
	}
	c, ok := r.Persons[personKey]
	return c, ok
}

// Taken is the number of places held, enrolled or awaiting enrolment.
func (r *Roster) Taken() int { return len(r.Seats) }

// Enrolled is the number of enrolled students.
func (r *Roster) Enrolled() int {
	n := 0
	for _, s := range r.Seats {
		if s.Enrolled {
			n++
		}
	}
	return n
}

// ClassSizes counts enrolled students per class.
func (r *Roster) ClassSizes() map[string]int {
	out := map[string]int{}
	for _, s := range r.Seats {
		if s.Enrolled {
			out[s.Class]++
		}
	}
	return out
}

// ParseClass reads the form of a class label "<grade>-<n>" such as "8-2"
// (n from 1 to 9); how many classes a grade may have is the branch's
// (ClassNorms.MaxClassLabel, checked by CheckClass).
func ParseClass(label string) (grade, n int, ok bool) {
	// Exactly one digit each side: "+8-1" or "8-01" would name the same
	// class under another label.
	if len(label) != 3 || label[1] != '-' {
		return 0, 0, false
	}
	grade, n = int(label[0])-'0', int(label[2])-'0'
	if grade < MinGrade || grade > MaxGrade || n < 1 || n > 9 {
		return 0, 0, false
	}
	return grade, n, true
}

// MaxClassLabel is the highest class number a grade may use under the
// norms: the school's classes less the fewest the other grades keep
// (8 − 2·2 = 4 by default), so a grade may open a class beyond the 2–3
// norm, which warns, but never more than the school has.
func (n ClassNorms) MaxClassLabel() int {
	return min(9, max(n.MaxClassesPerGrade, n.Classes-(grades-1)*n.MinClassesPerGrade))
}

// CheckClass applies the branch's class norms (R-CAP-2) to placing one
// more student in class: a class label beyond what the norms allow is
// refused; a class that would exceed the most per class is refused unless
// an override reason is given; outside the norms (students per class,
// classes per grade, classes in all) it warns.
func (r *Roster) CheckClass(grade int, class string, override bool, norms ClassNorms) (warnings []string, err error) {
	g, n, ok := ParseClass(class)
	if !ok || g != grade {
		return nil, Invalid(map[string]string{"class": fmt.Sprintf("must be a class of grade %d such as \"%d-1\" (R-CAP-2)", grade, grade)})
	}
	if n > norms.MaxClassLabel() {
		return nil, RuleError("R-CAP-2", "class %s is beyond the branch's classes: a grade has at most %d (%d classes in all, at least %d in each other grade)", class, norms.MaxClassLabel(), norms.Classes, norms.MinClassesPerGrade)
	}
	sizes := r.ClassSizes()
	after := sizes[class] + 1
	if after > norms.MaxPerClass && !override {
		return nil, RuleError("R-CAP-2", "class %s would have %d students (norm %d–%d): give an override reason", class, after, norms.MinPerClass, norms.MaxPerClass)
	}
	if after > norms.MaxPerClass {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: class %s now has %d students, above the norm of %d (override recorded)", class, after, norms.MaxPerClass))
	}
	if after < norms.MinPerClass {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: class %s has %d students, below the norm of %d", class, after, norms.MinPerClass))
	}
	sizes[class] = after
	perGrade := map[int]int{}
	for c := range sizes {
		if cg, _, ok := ParseClass(c); ok {
			perGrade[cg]++
		}
	}
	if len(sizes) > norms.Classes {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: %d classes in use, the norm is %d", len(sizes), norms.Classes))
	}
	switch {
	case perGrade[grade] > norms.MaxClassesPerGrade:
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: grade %d has %d classes, more than the norm of %d–%d", grade, perGrade[grade], norms.MinClassesPerGrade, norms.MaxClassesPerGrade))
	case perGrade[grade] < norms.MinClassesPerGrade:
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: grade %d has %d class(es), fewer than the norm of %d–%d", grade, perGrade[grade], norms.MinClassesPerGrade, norms.MaxClassesPerGrade))
	}
	return warnings, nil
}
