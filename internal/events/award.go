package events

// The award plan's final-review score sheets (R-AWD-1): a reviewer rates
// each criterion 1–5, with comments and their name. A sheet is its own
// stream, cihui.<branch>.scoresheet.<id>; a correction is a later event of
// the same stream that supersedes the sheet's ratings, comments and
// reviewer, so the log keeps every version.

// AggregateScoreSheet is the aggregate type of a score sheet.
const AggregateScoreSheet = "scoresheet"

// ScoreSheetFilled: a reviewer filled in a score sheet for an academic
// year. Ratings maps each criterion code (domain.AwardCriteria) to 1–5;
// Total is the points they give (R-AWD-1 Decision). The reviewer's name
// and the comments are sealed with the sheet's own data key.
type ScoreSheetFilled struct {
	AcademicYear int            `json:"academic_year"`
	Ratings      map[string]int `json:"ratings"`
	Total        int            `json:"total"`
	Reviewer     Sealed         `json:"reviewer"`
	Comments     Sealed         `json:"comments,omitzero"`
}

// EventType implements Event.
func (ScoreSheetFilled) EventType() string { return "ScoreSheetFilled" }

// ScoreSheetCorrected: the sheet's ratings, total, reviewer and comments
// are superseded by these (sealed with the sheet's key).
type ScoreSheetCorrected struct {
	Ratings  map[string]int `json:"ratings"`
	Total    int            `json:"total"`
	Reviewer Sealed         `json:"reviewer"`
	Comments Sealed         `json:"comments,omitzero"`
}

// EventType implements Event.
func (ScoreSheetCorrected) EventType() string { return "ScoreSheetCorrected" }

func awardEvents() []Event { return []Event{ScoreSheetFilled{}, ScoreSheetCorrected{}} }
