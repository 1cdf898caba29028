package events

import "cihui/internal/domain/calendar"

// The parties' duties (issue 10): what the branch school, the origin school
// and the bureau record having done. What is still owed is a read model
// (GET /v1/duties) derived from these and from the case's own events.

// Aggregates of the duties that are not a single case's.
const (
	// AggregateCoCounselling is an origin school's co-counselling visits
	// to a branch (R-ORG-5): cihui.<branch>.cocounselling.<school>.
	AggregateCoCounselling = "cocounselling"
	// AggregateFiling is the filing of one meeting's admitted list with
	// the bureau (R-SOY-7): cihui.<branch>.filing.<meeting id>.
	AggregateFiling = "filing"
)

// RecordsSent (case): the branch school sent the origin school a
// semester's records of the student (R-ENR-2): kinds among grades,
// rewards_penalties, attendance, learning.
type RecordsSent struct {
	Semester string        `json:"semester"` // e.g. "114-2"
	Kinds    []string      `json:"kinds"`
	On       calendar.Date `json:"on"`
}

// EventType implements Event.
func (RecordsSent) EventType() string { return "RecordsSent" }

// NetworkUnitsInformed (case): the origin school informed the network
// units of a result (R-SOY-7, R-MID-5, R-SUS-4): admitted, waitlisted,
// rejected or suspended.
type NetworkUnitsInformed struct {
	Result string        `json:"result"`
	On     calendar.Date `json:"on"`
}

// EventType implements Event.
func (NetworkUnitsInformed) EventType() string { return "NetworkUnitsInformed" }

// ReportingAccompanied (case): the origin school accompanied the admitted
// student when reporting to the branch (R-ORG-2). By: staff, or parent
// (enough for a graduating grade-6 pupil only).
type ReportingAccompanied struct {
	On calendar.Date `json:"on"`
	By string        `json:"by"`
}

// EventType implements Event.
func (ReportingAccompanied) EventType() string { return "ReportingAccompanied" }

// LeaveAssisted (case): after a suspension the origin school helped the
// student leave the branch and return (R-ORG-6).
type LeaveAssisted struct {
	On calendar.Date `json:"on"`
}

// EventType implements Event.
func (LeaveAssisted) EventType() string { return "LeaveAssisted" }

// CoCounsellingVisited (co-counselling stream): an origin school visited
// the branch to co-counsel its students (R-ORG-5). Each covered case may
// carry a note sealed with that student's key.
type CoCounsellingVisited struct {
	School string        `json:"school"`
	On     calendar.Date `json:"on"`
	Cases  []CoveredCase `json:"cases"`
}

// CoveredCase is one case a co-counselling visit covered.
type CoveredCase struct {
	CaseID string `json:"case_id"`
	Note   Sealed `json:"note,omitzero"`
}

// EventType implements Event.
func (CoCounsellingVisited) EventType() string { return "CoCounsellingVisited" }

// AdmittedListFiled (filing stream): the list of students a meeting
// admitted was filed with the education bureau (R-SOY-7).
type AdmittedListFiled struct {
	MeetingID string        `json:"meeting_id"`
	On        calendar.Date `json:"on"`
}

// EventType implements Event.
func (AdmittedListFiled) EventType() string { return "AdmittedListFiled" }

func dutyEvents() []Event {
	return []Event{
		RecordsSent{}, NetworkUnitsInformed{}, ReportingAccompanied{}, LeaveAssisted{},
		CoCounsellingVisited{}, AdmittedListFiled{},
	}
}
