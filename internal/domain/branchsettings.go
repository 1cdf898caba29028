package domain

import (
	"strconv"
	"time"

	"cihui/internal/domain/calendar"
)

// ClassNorms are a branch's classes (R-CAP-2): 8 classes, 2–3 per grade
// (7, 8, 9), 12–20 students per class as a norm.
type ClassNorms struct {
	Classes            int `json:"classes"`
	MinClassesPerGrade int `json:"min_classes_per_grade"`
	MaxClassesPerGrade int `json:"max_classes_per_grade"`
	MinPerClass        int `json:"min_per_class"`
	MaxPerClass        int `json:"max_per_class"`
}

// R-CAP-2's bounds: what the rules allow a branch to configure.
const (
	grades             = 3
	normMinPerClass    = 12
	normMaxPerClass    = 20
	normMinClassesPerG = 2
	normMaxClassesPerG = 3
	maxBranchCap       = 1000
	maxOverrideYears   = 50
)

// DefaultClassNorms are R-CAP-2 as written.
func DefaultClassNorms() ClassNorms {
	return ClassNorms{Classes: 8, MinClassesPerGrade: 2, MaxClassesPerGrade: 3, MinPerClass: 12, MaxPerClass: 20}
}

// DefaultMeetingMonths are the months of the regular meetings (R-MTG-1):
// the start-of-year meeting in May, before the academic year it admits
// into (the window closes May 14, students report in June, R-SOY-2,
// R-SOY-6; the rules page's R-CAP-1 decision: "a start-of-year meeting in
// May"), then March, October and December.
func DefaultMeetingMonths() map[string]time.Month {
	return map[string]time.Month{"start_of_year": time.May, "march": time.March, "october": time.October, "december": time.December}
}

// WithDefaults fills what a configuration stored before class norms and
// meeting months existed leaves out, with today's behaviour.
func (b Branch) WithDefaults() Branch {
	if b.ClassNorms == (ClassNorms{}) {
		b.ClassNorms = DefaultClassNorms()
	}
	if b.MeetingMonths == nil {
		b.MeetingMonths = DefaultMeetingMonths()
	}
	return b
}

// ValidateBranch checks a branch configuration before it is stored: the
// form of every field (EInvalid, per field), then the rules (ERule):
// class norms within R-CAP-2 and a cap the classes can hold. The cap
// against the seats already held is checked by the caller, who knows them
// (CheckCapHeld).
func ValidateBranch(b Branch) error {
	var c Check
	c.Code("code", b.Code, true)
	c.Line("name", b.Name, MaxLineLen, true)
	c.Line("committee", b.Committee, MaxLineLen, true)
	c.Int("cap", b.Cap, 1, maxBranchCap)
	n := b.ClassNorms
	c.Int("class_norms.classes", n.Classes, 1, 100)
	c.Int("class_norms.min_classes_per_grade", n.MinClassesPerGrade, 1, 100)
	c.Int("class_norms.max_classes_per_grade", n.MaxClassesPerGrade, 1, 100)
	c.Int("class_norms.min_per_class", n.MinPerClass, 1, 100)
	c.Int("class_norms.max_per_class", n.MaxPerClass, 1, 100)
	if n.MinClassesPerGrade > n.MaxClassesPerGrade {
		c.Set("class_norms.min_classes_per_grade", "must not exceed max_classes_per_grade")
	}
	if n.MinPerClass > n.MaxPerClass {
		c.Set("class_norms.min_per_class", "must not exceed max_per_class")
	}
	checkRule(&c, "start_of_year", b.StartOfYear)
	checkRule(&c, "mid_year", b.MidYear)
	if len(b.Overrides) > maxOverrideYears {
		c.Set("overrides", "at most "+strconv.Itoa(maxOverrideYears)+" academic years")
	}
	for year, o := range b.Overrides {
		f := "overrides." + strconv.Itoa(year)
		if year < MinAcademicYear || year > MaxAcademicYear {
			c.Set(f, "must be an ROC academic year from "+strconv.Itoa(MinAcademicYear)+" to "+strconv.Itoa(MaxAcademicYear))
			continue
		}
		checkWindow(&c, f+".start_of_year", o.StartOfYear, year)
		checkWindow(&c, f+".mid_year", o.MidYear, year)
	}
	for kind, m := range b.MeetingMonths {
		switch {
		case kind != "start_of_year" && kind != "march" && kind != "october" && kind != "december":
			c.Set("meeting_months", "kinds are start_of_year, march, october and december")
		case m < time.January || m > time.December:
			c.Set("meeting_months."+kind, "must be a month from 1 to 12")
		case kind == "start_of_year" && m > time.July:
			// R-MTG-1: held before the academic year begins on Aug 1.
			c.Set("meeting_months."+kind, "must be a month from 1 to 7: the start-of-year meeting is held before the academic year begins (Aug 1)")
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	// R-CAP-2: 2–3 classes per grade, 12–20 students per class.
	switch {
	case n.MinPerClass < normMinPerClass || n.MaxPerClass > normMaxPerClass:
		return RuleError("R-CAP-2", "students per class must stay within %d–%d", normMinPerClass, normMaxPerClass)
	case n.MinClassesPerGrade < normMinClassesPerG || n.MaxClassesPerGrade > normMaxClassesPerG:
		return RuleError("R-CAP-2", "classes per grade must stay within %d–%d", normMinClassesPerG, normMaxClassesPerG)
	case n.Classes < grades*n.MinClassesPerGrade || n.Classes > grades*n.MaxClassesPerGrade:
		return RuleError("R-CAP-2", "%d classes do not fit %d–%d classes in each of %d grades", n.Classes, n.MinClassesPerGrade, n.MaxClassesPerGrade, grades)
	case b.Cap > n.Classes*n.MaxPerClass:
		return RuleError("R-CAP-2", "a cap of %d does not fit %d classes of at most %d", b.Cap, n.Classes, n.MaxPerClass)
	}
	return nil
}

// CheckCapHeld refuses a cap below the seats already held (R-CAP-1).
// Seats are not dated yet: held is the roster's seats now.
func CheckCapHeld(capacity, held int) error {
	if capacity < held {
		return RuleError("R-CAP-1", "a cap of %d is below the %d seats already held", capacity, held)
	}
	return nil
}

func checkRule(c *Check, field string, w WindowRule) {
	for _, md := range []struct {
		f string
		v MonthDay
	}{{".open", w.Open}, {".close", w.Close}} {
		// Feb 29 is refused: the rule must give a real date every year.
		if md.v.Month < time.January || md.v.Month > time.December || md.v.Day < 1 ||
			md.v.Day > calendar.NewDate(2025, md.v.Month+1, 0).Day() {
			c.Set(field+md.f, "must be a month-day that exists every year")
		}
	}
	if w.OpenYearOffset < -1 || w.OpenYearOffset > 1 || w.CloseYearOffset < -1 || w.CloseYearOffset > 1 {
		c.Set(field, "year offsets must be -1, 0 or 1")
	}
	if c.Has(field+".open") || c.Has(field+".close") || c.Has(field) {
		return
	}
	if win := w.For(115); win.Closes.Before(win.Opens) {
		c.Set(field, "the window must not close before it opens")
	}
}

func checkWindow(c *Check, field string, w *Window, year int) {
	if w == nil {
		return
	}
	switch {
	case w.Opens.IsZero() || w.Closes.IsZero():
		c.Set(field, "opens and closes are required")
	case w.Closes.Before(w.Opens):
		c.Set(field, "the window must not close before it opens")
	case w.Opens.Year() < year+1911-1 || w.Closes.Year() > year+1911+1:
		c.Set(field, "must fall within a year of the academic year")
	}
}

// BranchChange is one recorded change of a branch's settings.
type BranchChange struct {
	Seq       int64     `json:"seq"`
	Code      string    `json:"code"`
	At        time.Time `json:"at"`
	ActorRole string    `json:"actor_role"`
	ActorID   string    `json:"actor_id"`
	Before    *Branch   `json:"before"`
	After     Branch    `json:"after"`
}

// BranchSaveMode says whether a save may create, replace, or both.
type BranchSaveMode int

// The save modes: add (new code only), set (existing only), put (either).
const (
	BranchPut BranchSaveMode = iota
	BranchAdd
	BranchSet
)
