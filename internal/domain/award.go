package domain

import (
	"regexp"
	"time"

	"cihui/internal/domain/calendar"
)

// The final-review score sheet of the national award plan (R-AWD-1).

// Award criterion codes, in the score sheet's order.
const (
	CriterionOrganisation = "organisation" // 組織運作及資源運用
	CriterionPrevention   = "prevention"   // 中輟預防具體事蹟
	CriterionSearch       = "search"       // 中輟協尋具體事蹟
	CriterionReturn       = "return"       // 復學輔導具體事蹟
	CriterionFollowUp     = "follow_up"    // 輔導追蹤作為
	CriterionInnovation   = "innovation"   // 創新措施與優良性事蹟
	CriterionOther        = "other"        // 其他
)

// AwardCriterion is one criterion of the score sheet with its weight.
type AwardCriterion struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Weight int    `json:"weight"`
}

// AwardCriteria are R-AWD-1's seven criteria, weighted 10, 20, 10, 20, 20,
// 15, 5 (total 100).
var AwardCriteria = []AwardCriterion{
	{CriterionOrganisation, "組織運作及資源運用", 10},
	{CriterionPrevention, "中輟預防具體事蹟", 20},
	{CriterionSearch, "中輟協尋具體事蹟", 10},
	{CriterionReturn, "復學輔導具體事蹟", 20},
	{CriterionFollowUp, "輔導追蹤作為", 20},
	{CriterionInnovation, "創新措施與優良性事蹟", 15},
	{CriterionOther, "其他", 5},
}

// Limits of a score sheet's free text.
const (
	MaxReviewerName = 50
	MaxComments     = 2000
	MinRating       = 1
	MaxRating       = 5
)

// CriterionScore is one criterion's rating and the points it gives.
type CriterionScore struct {
	Criterion string `json:"criterion"`
	Rating    int    `json:"rating"`
	Points    int    `json:"points"`
}

// AwardScore computes the sheet's points (R-AWD-1 Decision: a rating r of
// a criterion of weight w gives w·r/5 points, so five 5s make 100). The
// weights are multiples of 5, so every figure is a whole number. ratings
// must hold a valid rating for every criterion (ValidateRatings).
func AwardScore(ratings map[string]int) ([]CriterionScore, int) {
	out := make([]CriterionScore, len(AwardCriteria))
	total := 0
	for i, c := range AwardCriteria {
		r := ratings[c.Code]
		p := c.Weight * r / 5
		out[i] = CriterionScore{Criterion: c.Code, Rating: r, Points: p}
		total += p
	}
	return out, total
}

// ValidateScoreSheet checks a score sheet: a rating 1–5 for each of the
// seven criteria and no other (R-AWD-1), the reviewer's name (one line,
// required) and the comments (free text, optional).
func ValidateScoreSheet(ratings map[string]int, reviewer, comments string) error {
	var ck Check
	known := map[string]bool{}
	for _, c := range AwardCriteria {
		known[c.Code] = true
		r, ok := ratings[c.Code]
		switch {
		case !ok:
			ck.Set("ratings."+c.Code, msgRequired)
		case r < MinRating || r > MaxRating:
			ck.Set("ratings."+c.Code, "must be a rating from 1 to 5 (R-AWD-1)")
		}
	}
	for k := range ratings {
		if !known[k] {
			ck.Set("ratings", "unknown criterion: use "+joinSet(AwardCriterionCodes()))
		}
	}
	ck.Line("reviewer", reviewer, MaxReviewerName, true)
	ck.Text("comments", comments, MaxComments, false)
	return ck.Err()
}

// AwardCriterionCodes lists the criterion codes in order.
func AwardCriterionCodes() []string {
	out := make([]string, len(AwardCriteria))
	for i, c := range AwardCriteria {
		out[i] = c.Code
	}
	return out
}

// ScoreSheetIDPattern is the form of a score sheet's id.
const ScoreSheetIDPattern = `^s[a-z2-7]{24}$`

var scoreSheetIDRE = regexp.MustCompile(ScoreSheetIDPattern)

// IsScoreSheetID reports whether id has the form of a score sheet's id.
func IsScoreSheetID(id string) bool { return scoreSheetIDRE.MatchString(id) }

// AcademicYearPeriod returns the first and last day of ROC academic year
// year: Aug 1 – Jul 31, the statistics period of the award plan.
func AcademicYearPeriod(year int) (calendar.Date, calendar.Date) {
	return calendar.NewDate(year+1911, time.August, 1), calendar.NewDate(year+1912, time.July, 31)
}

// ValidAcademicYear reports whether year is an academic year the system
// keeps.
func ValidAcademicYear(year int) bool { return year >= MinAcademicYear && year <= MaxAcademicYear }
