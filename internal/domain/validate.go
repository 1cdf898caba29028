package domain

import (
	"regexp"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"cihui/internal/domain/calendar"
)

// The boundary accepts only what every store can hold (issue 7): the event
// log (JSON), PostgreSQL text columns (valid UTF-8, no NUL) and integer
// columns. These limits are the contract stated in the OpenAPI document.
// Messages describe what is expected and never echo the value: it may be
// personal data.

// Text limits, in characters (runes).
const (
	MaxNameLen    = 100  // a person's name
	MaxLineLen    = 200  // one line of text: an address, a title, a short reason
	MaxNoteLen    = 4000 // free text: notes, reasons, records
	MaxCodeLen    = 32   // a school or branch code
	MaxRelationLn = 20   // a guardian's relationship to the student
)

// Number ranges.
const (
	MinPages, MaxPages               = 1, 500   // pages of one checklist item
	MinGrade, MaxGrade               = 7, 9     // junior-high grades (R-CAP-2); a grade-6 pupil is referred for grade 7 (R-SOY-1)
	MinAcademicYear, MaxAcademicYear = 100, 200 // ROC academic years (AD 2011–2111)
	MinCalendarYear, MaxCalendarYear = 1912, 2200
	MaxAppealDocuments               = 100
	MinStudentAge, MaxStudentAge     = 9, 21 // plausible ages of a junior-high student on the day of filing
	MaxDocumentAgeYears              = 25    // no checklist document was issued before the student was born
	MaxListItems                     = 20    // entries of a list field such as grounds
)

// Messages shared by every validator.
const (
	msgUTF8     = "must be valid UTF-8 text"
	msgNUL      = "must not contain NUL or control characters"
	msgRequired = "required"
	msgDate     = "must be a date YYYY-MM-DD"
	// MsgInvalidCursor is the one answer to any cursor the list cannot
	// continue from: garbage, unknown, or another scope's case.
	MsgInvalidCursor = "invalid cursor: use the next_cursor of the previous page"
)

// TextProblem returns what is wrong with v as text of at most max
// characters, or "" if nothing is. multiline allows newline and tab (free
// text); otherwise no control character is allowed (names, codes, one-line
// fields). NUL is never allowed: PostgreSQL text cannot hold it.
func TextProblem(v string, max int, multiline bool) string {
	if !utf8.ValidString(v) {
		return msgUTF8
	}
	n := 0
	for _, r := range v {
		n++
		if r == '\n' || r == '\t' {
			if !multiline {
				return "must be a single line without tabs or control characters"
			}
			continue
		}
		if r == 0 || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= 0xFDD0 && r <= 0xFDEF) || r&0xFFFE == 0xFFFE {
			return msgNUL
		}
	}
	if n > max {
		return "at most " + strconv.Itoa(max) + " characters"
	}
	return ""
}

// Check collects per-field problems; Err returns them as one EInvalid
// error. The zero value is ready to use.
type Check struct{ bad map[string]string }

// Set records a problem with field, keeping the first one.
func (c *Check) Set(field, msg string) {
	if c.bad == nil {
		c.bad = map[string]string{}
	}
	if _, ok := c.bad[field]; !ok {
		c.bad[field] = msg
	}
}

// Has reports whether field already has a problem.
func (c *Check) Has(field string) bool { _, ok := c.bad[field]; return ok }

// Err returns nil when every field is fine, else an EInvalid error with
// per-field messages.
func (c *Check) Err() error {
	if len(c.bad) == 0 {
		return nil
	}
	return Invalid(c.bad)
}

// Line checks one line of text (no control characters) of at most max
// characters; required refuses an empty or blank value.
func (c *Check) Line(field, v string, max int, required bool) {
	c.text(field, v, max, false, required)
}

// Text checks free text (newline and tab allowed) of at most max
// characters.
func (c *Check) Text(field, v string, max int, required bool) {
	c.text(field, v, max, true, required)
}

func (c *Check) text(field, v string, max int, multiline, required bool) {
	if p := TextProblem(v, max, multiline); p != "" {
		c.Set(field, p)
		return
	}
	if required && isBlank(v) {
		c.Set(field, msgRequired)
	}
}

func isBlank(v string) bool {
	for _, r := range v {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ValidCode reports whether v is a code (school, branch): 1 to 32 ASCII
// letters, digits, '_' or '-'.
func ValidCode(v string) bool { return codeRE.MatchString(v) }

// Code checks a code such as a school code; an empty value is allowed
// unless required.
func (c *Check) Code(field, v string, required bool) {
	switch {
	case v == "" && required:
		c.Set(field, msgRequired)
	case v != "" && !ValidCode(v):
		c.Set(field, "must be a code of 1 to 32 letters, digits, '_' or '-'")
	}
}

// Int checks that v lies in [lo, hi].
func (c *Check) Int(field string, v, lo, hi int) {
	if v < lo || v > hi {
		c.Set(field, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
}

// OneOf checks that v is one of set; empty is allowed unless required.
func (c *Check) OneOf(field, v string, set []string, required bool) {
	if v == "" && !required {
		return
	}
	for _, s := range set {
		if v == s {
			return
		}
	}
	c.Set(field, "must be one of "+joinSet(set))
}

// EachOneOf checks that every entry of vs is one of set, and that there
// are at most max entries.
func (c *Check) EachOneOf(field string, vs, set []string, max int) {
	if len(vs) > max {
		c.Set(field, "at most "+strconv.Itoa(max)+" entries")
		return
	}
	for _, v := range vs {
		c.OneOf(field, v, set, true)
		if c.Has(field) {
			c.bad[field] = "each must be one of " + joinSet(set)
			return
		}
	}
}

func joinSet(set []string) string {
	out := ""
	for i, s := range set {
		switch {
		case i == 0:
		case i == len(set)-1:
			out += " or "
		default:
			out += ", "
		}
		out += s
	}
	return out
}

// Date parses v as a date YYYY-MM-DD; a bad value is recorded and the
// zero date returned with false.
func (c *Check) Date(field, v string) (calendar.Date, bool) {
	d, err := calendar.ParseDate(v)
	if err != nil {
		c.Set(field, msgDate)
		return calendar.Date{}, false
	}
	return d, true
}

// DateIn checks that d lies between from and to, inclusive, with what
// to say otherwise.
func (c *Check) DateIn(field string, d, from, to calendar.Date, msg string) {
	if d.Before(from) || d.After(to) {
		c.Set(field, msg)
	}
}

// yearsBefore returns the date n years before d.
func yearsBefore(d calendar.Date, n int) calendar.Date {
	return calendar.DateOf(d.Time().AddDate(-n, 0, 0), time.UTC)
}

// CheckBirthDate checks a student's birth date: a real date, not in the
// future, and plausible for a junior-high student on the day of filing
// (aged MinStudentAge to MaxStudentAge).
func (c *Check) CheckBirthDate(field, v string, today calendar.Date) {
	d, ok := c.Date(field, v)
	if !ok {
		return
	}
	if d.After(today) {
		c.Set(field, "cannot be in the future")
		return
	}
	c.DateIn(field, d, yearsBefore(today, MaxStudentAge+1).AddDays(1), yearsBefore(today, MinStudentAge),
		"must be the birth date of a junior-high student (aged "+strconv.Itoa(MinStudentAge)+" to "+strconv.Itoa(MaxStudentAge)+")")
}

// CheckNote checks a free-text note (sealed before it is recorded).
func CheckNote(field, v string) error {
	var c Check
	c.Text(field, v, MaxNoteLen, false)
	return c.Err()
}

// Id patterns, as the OpenAPI document states them.
const (
	ReferralIDPattern = `^r[a-z2-7]{24}$`
	MeetingIDPattern  = `^m[a-z2-7]{24}$`
)

var (
	referralIDRE = regexp.MustCompile(ReferralIDPattern)
	meetingIDRE  = regexp.MustCompile(MeetingIDPattern)
)

// IsReferralID reports whether id has the exact form of a referral id.
// Anything else is refused before any stream is loaded.
// It is referralIDRE's match, by hand: it runs twice per command (the
// path check, the stream), issue 13.
func IsReferralID(id string) bool { return isBase32ID(id, 'r') }

// isBase32ID reports whether id is prefix and 24 characters a–z, 2–7.
func isBase32ID(id string, prefix byte) bool {
	if len(id) != 25 || id[0] != prefix {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// IsMeetingID reports whether id has the exact form of a meeting id.
func IsMeetingID(id string) bool { return meetingIDRE.MatchString(id) }

// Stages lists every stage a referral can be in: the closed set of the
// list filter ?status=.
var Stages = []string{
	string(StageIntake), string(StageReturned), string(StageRecommended), string(StageToDiscuss), string(StageNotEligible),
	string(StageAdmitted), string(StageWaitlisted), string(StageRejected), string(StageEnrolled), string(StageLeft),
	string(StageLapsed), string(StageGraduated), string(StageSuspended), // a lapsed application or waiting entry; graduated (rollover.go)
}
