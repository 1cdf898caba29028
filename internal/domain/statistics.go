package domain

import (
	"slices"
	"strings"
	"time"

	"cihui/internal/domain/calendar"
)

// The national dropout statistics (R-STAT-1, R-STAT-2, seed 003). They are
// computed from dated facts only — episodes, enrolments and the unsealed
// categories — so they survive an erasure and are right for any past year
// and any print date.
//
// Counting decisions (rules page, and where it is silent, here):
//   - counts are of students (persons), never episodes;
//   - AA is the students enrolled at the branch on any day of the period;
//   - A and B are counted separately and a student may be in both;
//   - a student is out on day d when an episode started on or before d
//     and has not ended before d: a return (or a closing) dated d means
//     the student is back on d. So B, "still out at the period's start",
//     takes episodes not ended before Aug 1, and one that ends on Aug 1 is
//     in B and its return is in D;
//   - facts dated after the print date are not yet known: the table is the
//     one that would have been printed that day;
//   - C, D, E and F count returns and finds of the episodes that put the
//     student in A (C, E) or in B (D, F);
//   - H counts students of A or B with 2 or more episodes started up to
//     the period's end (or the print date, if earlier);
//   - P counts students of A or B still out on the print date;
//   - for the whereabouts and reason breakdowns a student is counted under
//     the category of the latest episode that put them in A or B.

// Dropout statistics figures, in the national table's order.
var (
	StatCounts = []string{"AA", "A", "B", "C", "D", "E", "F", "G", "H", "P"}
	StatRates  = []string{"I", "J", "K", "L", "M", "N", "O"}
)

// Categories of the breakdowns (R-STAT-2). Unknown is for cases filed
// before the category was recorded.
const (
	CategoryUnknown = "unknown"

	BackgroundBothParents  = "both_parents"  // 雙親
	BackgroundSingleParent = "single_parent" // 單親
	BackgroundNoParent     = "no_parent"     // 失親

	IdentityIndigenous         = "indigenous"           // 原住民
	IdentityNewImmigrantParent = "new_immigrant_parent" // 外籍配偶子女
	IdentityInstitutionalCare  = "institutional_care"   // 安置教養

	WhereaboutsUnknown = "unknown" // 行蹤不明
	WhereaboutsKnown   = "known"   // 非行蹤不明
)

// Breakdown dimensions and their values, in the national table's order.
var (
	StatDimensions = []string{"sex", "background", "whereabouts", "identity", "reason"}
	statValues     = map[string][]string{
		"sex":         {"M", "F"},
		"background":  {BackgroundBothParents, BackgroundSingleParent, BackgroundNoParent, CategoryUnknown},
		"whereabouts": {WhereaboutsUnknown, WhereaboutsKnown},
		"identity":    {IdentityIndigenous, IdentityNewImmigrantParent, IdentityInstitutionalCare, CategoryUnknown},
		"reason":      {"personal", "family", "school", "social", "other"},
	}
)

// StatDimensionValues returns the values of a breakdown dimension in the
// national table's order.
func StatDimensionValues(dim string) []string { return slices.Clone(statValues[dim]) }

// StatStudent is what the statistics know of one student: a person, who
// may have had more than one case at the branch.
type StatStudent struct {
	Key     string   // the person key; the case id where none is known
	CaseIDs []string // the student's cases at the branch
	Sex     string   // M | F
	// Background is a Background* constant or CategoryUnknown.
	Background string
	// Identity holds Identity* flags; IdentityKnown is false for cases
	// filed before the flags were recorded.
	Identity      []string
	IdentityKnown bool
	Enrolments    []Enrolment
	Episodes      []StatEpisode
}

// Enrolment is one range of days a student was enrolled. A zero Last is
// open-ended.
type Enrolment struct {
	From, Last calendar.Date
}

// StatEpisode is one dropout episode's dated facts. Zero dates are facts
// not (yet) recorded.
type StatEpisode struct {
	CaseID      string
	Episode     int
	Start       calendar.Date // the first day absent
	Whereabouts string        // unknown | known
	Reason      string        // personal | family | school | social | other
	Found       calendar.Date
	Returned    calendar.Date
	Closed      calendar.Date
}

// StatPeriod is the statistics period of an academic year, Aug 1 – Jul 31,
// cut at the print date.
type StatPeriod struct {
	AcademicYear int
	From, To     calendar.Date // Aug 1 and Jul 31
	AsOf         calendar.Date // the print date
}

// NewStatPeriod returns the period of ROC academic year year printed on asOf.
func NewStatPeriod(year int, asOf calendar.Date) StatPeriod {
	return StatPeriod{
		AcademicYear: year,
		From:         calendar.NewDate(year+1911, time.August, 1),
		To:           calendar.NewDate(year+1912, time.July, 31),
		AsOf:         asOf,
	}
}

// end is the last day the period's facts are counted for.
func (p StatPeriod) end() calendar.Date {
	if p.AsOf.Before(p.To) {
		return p.AsOf
	}
	return p.To
}

// known returns d when it is a fact known on the print date.
func (p StatPeriod) known(d calendar.Date) calendar.Date {
	if d.IsZero() || d.After(p.AsOf) {
		return calendar.Date{}
	}
	return d
}

func (p StatPeriod) in(d calendar.Date) bool {
	return !d.IsZero() && !d.Before(p.From) && !d.After(p.end())
}

// ended is the day an episode ended (a return or a closing), as known on
// the print date; zero while it is open.
func (p StatPeriod) ended(e StatEpisode) calendar.Date {
	r, c := p.known(e.Returned), p.known(e.Closed)
	switch {
	case r.IsZero():
		return c
	case c.IsZero() || r.Before(c):
		return r
	default:
		return c
	}
}

// outOn reports whether the episode has the student out on day d.
func (p StatPeriod) outOn(e StatEpisode, d calendar.Date) bool {
	if e.Start.After(d) || e.Start.After(p.AsOf) {
		return false
	}
	end := p.ended(e)
	return end.IsZero() || end.After(d)
}

// outAtStart reports whether an episode begun before the period was still
// out when the period began: not ended before Aug 1 (R-STAT-1 B).
func (p StatPeriod) outAtStart(e StatEpisode) bool {
	if !e.Start.Before(p.From) || e.Start.After(p.AsOf) {
		return false
	}
	end := p.ended(e)
	return end.IsZero() || !end.Before(p.From)
}

// EpisodeRef names one episode of one case.
type EpisodeRef struct {
	CaseID  string `json:"case_id"`
	Episode int    `json:"episode"`
}

// StatEntry is one student counted in a figure, with the cases and the
// episodes that put them there.
type StatEntry struct {
	CaseIDs  []string     `json:"case_ids"`
	Episodes []EpisodeRef `json:"episodes"`
}

// membership is one student's place in every figure.
type membership struct {
	student *StatStudent
	figures map[string][]EpisodeRef // figure → the episodes behind it; AA has none
	latest  StatEpisode             // the latest A or B episode
}

func classify(p StatPeriod, s *StatStudent) membership {
	m := membership{student: s, figures: map[string][]EpisodeRef{}}
	add := func(fig string, e StatEpisode) {
		m.figures[fig] = append(m.figures[fig], EpisodeRef{CaseID: e.CaseID, Episode: e.Episode})
	}
	for _, en := range s.Enrolments {
		if !en.From.After(p.end()) && (en.Last.IsZero() || !en.Last.Before(p.From)) && !p.AsOf.Before(p.From) {
			m.figures["AA"] = []EpisodeRef{}
			break
		}
	}
	var upToEnd, inA []StatEpisode
	for _, e := range s.Episodes {
		if e.Start.IsZero() || e.Start.After(p.end()) {
			continue
		}
		upToEnd = append(upToEnd, e)
		isA := p.in(e.Start)
		isB := p.outAtStart(e)
		if isA {
			inA = append(inA, e)
			add("A", e)
			if p.in(p.known(e.Returned)) {
				add("C", e)
			}
			if e.Whereabouts == WhereaboutsUnknown && p.in(p.known(e.Found)) {
				add("E", e)
			}
		}
		if isB {
			add("B", e)
			if p.in(p.known(e.Returned)) {
				add("D", e)
			}
			if e.Whereabouts == WhereaboutsUnknown && p.in(p.known(e.Found)) {
				add("F", e)
			}
		}
		if isA || isB {
			if m.latest.Start.IsZero() || !e.Start.Before(m.latest.Start) {
				m.latest = e
			}
			if p.outOn(e, p.AsOf) {
				add("P", e)
			}
		}
	}
	if len(inA) >= 2 {
		for _, e := range inA {
			add("G", e)
		}
	}
	_, a := m.figures["A"]
	_, b := m.figures["B"]
	if (a || b) && len(upToEnd) >= 2 {
		for _, e := range upToEnd {
			add("H", e)
		}
	}
	return m
}

// StatFigures are the counts and rates of one row of the table.
type StatFigures struct {
	Counts map[string]int      `json:"counts"`
	Rates  map[string]StatRate `json:"rates"`
}

// StatRate is a rate of R-STAT-1. Value is nil when the denominator is
// zero: the rate is undefined, not 0, and Undefined says why.
type StatRate struct {
	Value       *float64 `json:"value"`
	Numerator   int      `json:"numerator"`
	Denominator int      `json:"denominator"`
	Formula     string   `json:"formula"`
	Undefined   string   `json:"undefined,omitempty"`
}

// StatBreakdownRow is one category of a breakdown dimension.
type StatBreakdownRow struct {
	Value string `json:"value"`
	StatFigures
}

// DropoutTable is the national dropout statistics table of a branch for
// an academic year as printed on a date.
type DropoutTable struct {
	Period     StatPeriod
	Total      StatFigures
	Breakdowns map[string][]StatBreakdownRow
}

// rateDefs are R-STAT-1's rates: numerator figures over denominator figures.
var rateDefs = []struct {
	name, formula string
	num, den      []string
}{
	{"I", "G/A", []string{"G"}, []string{"A"}},
	{"J", "H/(A+B)", []string{"H"}, []string{"A", "B"}},
	{"K", "C/A", []string{"C"}, []string{"A"}},
	{"L", "D/B", []string{"D"}, []string{"B"}},
	{"M", "(C+D)/(A+B)", []string{"C", "D"}, []string{"A", "B"}},
	{"N", "A/AA", []string{"A"}, []string{"AA"}},
	{"O", "P/AA", []string{"P"}, []string{"AA"}},
}

func figures(ms []membership) StatFigures {
	f := StatFigures{Counts: map[string]int{}, Rates: map[string]StatRate{}}
	for _, name := range StatCounts {
		f.Counts[name] = 0
	}
	for _, m := range ms {
		for fig := range m.figures {
			f.Counts[fig]++
		}
	}
	sum := func(names []string) int {
		n := 0
		for _, x := range names {
			n += f.Counts[x]
		}
		return n
	}
	for _, d := range rateDefs {
		r := StatRate{Numerator: sum(d.num), Denominator: sum(d.den), Formula: d.formula}
		if r.Denominator == 0 {
			r.Undefined = "undefined: the denominator " + denominatorText(d.formula) + " is 0"
		} else {
			v := float64(r.Numerator) / float64(r.Denominator)
			r.Value = &v
		}
		f.Rates[d.name] = r
	}
	return f
}

func denominatorText(formula string) string {
	for i := len(formula) - 1; i >= 0; i-- {
		if formula[i] == '/' {
			return formula[i+1:]
		}
	}
	return formula
}

// DropoutStatistics computes the table of R-STAT-1 and R-STAT-2 for the
// students of one branch.
func DropoutStatistics(p StatPeriod, students []StatStudent) DropoutTable {
	ms := make([]membership, 0, len(students))
	for i := range students {
		if m := classify(p, &students[i]); len(m.figures) > 0 {
			ms = append(ms, m)
		}
	}
	t := DropoutTable{Period: p, Total: figures(ms), Breakdowns: map[string][]StatBreakdownRow{}}
	for _, dim := range StatDimensions {
		for _, v := range statValues[dim] {
			sub := slices.DeleteFunc(slices.Clone(ms), func(m membership) bool { return !statHas(m, dim, v) })
			row := StatBreakdownRow{Value: v, StatFigures: figures(sub)}
			if dim == "whereabouts" || dim == "reason" {
				// An enrolled student who never dropped out has no
				// episode category: AA and its rates have no row here.
				delete(row.Counts, "AA")
				delete(row.Rates, "N")
				delete(row.Rates, "O")
			}
			t.Breakdowns[dim] = append(t.Breakdowns[dim], row)
		}
	}
	return t
}

func statHas(m membership, dim, v string) bool {
	s := m.student
	switch dim {
	case "sex":
		return s.Sex == v
	case "background":
		b := s.Background
		if b == "" {
			b = CategoryUnknown
		}
		return b == v
	case "identity":
		if !s.IdentityKnown {
			return v == CategoryUnknown
		}
		return slices.Contains(s.Identity, v)
	case "whereabouts":
		return !m.latest.Start.IsZero() && m.latest.Whereabouts == v
	case "reason":
		return !m.latest.Start.IsZero() && m.latest.Reason == v
	}
	return false
}

// ExplainFigure lists the students counted in one figure (AA, A–H, P), with
// the cases and episodes that put each there, so that a user can check the
// number.
func ExplainFigure(p StatPeriod, students []StatStudent, figure string) ([]StatEntry, bool) {
	if !slices.Contains(StatCounts, figure) {
		return nil, false
	}
	out := []StatEntry{}
	for i := range students {
		m := classify(p, &students[i])
		refs, ok := m.figures[figure]
		if !ok {
			continue
		}
		out = append(out, StatEntry{CaseIDs: slices.Clone(students[i].CaseIDs), Episodes: refs})
	}
	slices.SortFunc(out, func(a, b StatEntry) int {
		return strings.Compare(firstOr(a.CaseIDs), firstOr(b.CaseIDs))
	})
	return out, true
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
