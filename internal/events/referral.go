package events

import "cihui/internal/domain/calendar"

// ReferralOpened: an origin school (or the bureau, for an assessed mid-year
// application) filed a referral. Personal data is sealed with the
// student's data key; everything in the clear is a code or a category.
type ReferralOpened struct {
	ReferralID   string        `json:"referral_id"`
	OriginSchool string        `json:"origin_school"`
	AcademicYear int           `json:"academic_year"` // ROC year it enrols into
	Route        string        `json:"route"`         // start_of_year | mid_year
	Channel      string        `json:"channel,omitempty"`
	ReceivedOn   calendar.Date `json:"received_on"`
	Grade        int           `json:"grade"`
	// ElementaryGraduate: filed by an elementary school for a graduating
	// grade-6 pupil (R-SOY-1); IntendedSchool is the junior high.
	ElementaryGraduate bool     `json:"elementary_graduate,omitempty"`
	IntendedSchool     string   `json:"intended_school,omitempty"`
	Sex                string   `json:"sex"`
	Grounds            []string `json:"grounds"`
	PersonKey          string   `json:"person_key"`
	Personal           Sealed   `json:"personal"`
}

// EventType implements Event.
func (ReferralOpened) EventType() string { return "ReferralOpened" }

// DocumentSubmitted: the origin school handed in checklist item Item.
type DocumentSubmitted struct {
	Item     int            `json:"item"`
	Pages    int            `json:"pages"`
	IssuedOn *calendar.Date `json:"issued_on,omitempty"`
}

// EventType implements Event.
func (DocumentSubmitted) EventType() string { return "DocumentSubmitted" }

// DocumentChecked: a social worker checked item Item as conforming
// (符合) or not (不符合). The note may describe the family and is sealed.
type DocumentChecked struct {
	Item     int    `json:"item"`
	Conforms bool   `json:"conforms"`
	Note     Sealed `json:"note,omitzero"`
}

// EventType implements Event.
func (DocumentChecked) EventType() string { return "DocumentChecked" }

// DefaultRegistry returns the registry of every event type of the system at
// its current schema version.
func DefaultRegistry() *Registry {
	r := NewRegistry()
	r.Register(ReferralOpened{}, 1)
	r.Register(DocumentSubmitted{}, 1)
	r.Register(DocumentChecked{}, 1)
	return r
}
