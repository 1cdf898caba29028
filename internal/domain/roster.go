package domain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cihui/internal/events"
)

// Roster is a branch's places: who holds one (admitted, awaiting
// enrolment, or enrolled in a class) and the waiting list in order of
// application time. Every change to it is guarded by the roster stream's
// expected sequence, so the cap holds in the event log itself (R-CAP-1).
type Roster struct {
	Seats   map[string]Seat
	Waiting []WaitEntry
	Version uint64
	LastSeq uint64
}

// Seat is one taken place.
type Seat struct {
	Enrolled bool
	Grade    int
	Class    string
}

// WaitEntry is one case on the waiting list.
type WaitEntry struct {
	CaseID              string `json:"case_id"`
	ApplicationPosition uint64 `json:"application_position"`
}

// Apply folds one roster event.
func (r *Roster) Apply(env events.Envelope) {
	if r.Seats == nil {
		r.Seats = map[string]Seat{}
	}
	switch e := env.Payload.(type) {
	case events.SeatTaken:
		r.Seats[e.CaseID] = Seat{}
		r.Waiting = slices.DeleteFunc(r.Waiting, func(w WaitEntry) bool { return w.CaseID == e.CaseID })
	case events.SeatReleased:
		delete(r.Seats, e.CaseID)
	case events.WaitlistJoined:
		if !slices.ContainsFunc(r.Waiting, func(w WaitEntry) bool { return w.CaseID == e.CaseID }) {
			r.Waiting = append(r.Waiting, WaitEntry{CaseID: e.CaseID, ApplicationPosition: e.ApplicationPosition})
			slices.SortStableFunc(r.Waiting, func(a, b WaitEntry) int { return cmpU64(a.ApplicationPosition, b.ApplicationPosition) })
		}
	case events.SeatEnrolled:
		r.Seats[e.CaseID] = Seat{Enrolled: true, Grade: e.Grade, Class: e.Class}
	}
	r.Version = env.Version
	r.LastSeq = env.Position
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

// Class-size norms (R-CAP-2).
const (
	MaxClasses      = 8
	MinClassesGrade = 2
	MaxClassesGrade = 3
	ClassNormMin    = 12
	ClassNormMax    = 20
)

// ParseClass reads a class label "<grade>-<n>" such as "8-2".
func ParseClass(label string) (grade, n int, ok bool) {
	g, c, found := strings.Cut(label, "-")
	if !found {
		return 0, 0, false
	}
	grade, err1 := strconv.Atoi(g)
	n, err2 := strconv.Atoi(c)
	if err1 != nil || err2 != nil || grade < 7 || grade > 9 || n < 1 || n > MaxClassesGrade {
		return 0, 0, false
	}
	return grade, n, true
}

// CheckClass applies R-CAP-2 to placing one more student in class: a
// class that would exceed 20 is refused unless an override reason is
// given; outside the norms (12–20 a class, 2–3 classes a grade, 8 in all)
// it warns.
func (r *Roster) CheckClass(grade int, class string, override bool) (warnings []string, err error) {
	g, _, ok := ParseClass(class)
	if !ok || g != grade {
		return nil, Invalid(map[string]string{"class": fmt.Sprintf("must be a class of grade %d such as \"%d-1\" (2–3 classes a grade, R-CAP-2)", grade, grade)})
	}
	sizes := r.ClassSizes()
	after := sizes[class] + 1
	if after > ClassNormMax && !override {
		return nil, RuleError("R-CAP-2", "class %s would have %d students (norm 12–20): give an override reason", class, after)
	}
	if after > ClassNormMax {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: class %s now has %d students, above the norm of 20 (override recorded)", class, after))
	}
	if after < ClassNormMin {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: class %s has %d students, below the norm of 12", class, after))
	}
	sizes[class] = after
	perGrade := map[int]int{}
	for c := range sizes {
		if cg, _, ok := ParseClass(c); ok {
			perGrade[cg]++
		}
	}
	if len(sizes) > MaxClasses {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: %d classes in use, the norm is 8", len(sizes)))
	}
	if perGrade[grade] > MaxClassesGrade {
		warnings = append(warnings, fmt.Sprintf("R-CAP-2: grade %d has %d classes, the norm is 2–3", grade, perGrade[grade]))
	}
	return warnings, nil
}
