package events

// LegalHoldPlaced: an admin placed a legal hold on a case: while it holds,
// the retention job does not erase the student (學生輔導法施行細則 §10
// retention is deferred). Reason is a category; the free-text note may
// describe the person and is sealed.
type LegalHoldPlaced struct {
	Reason string `json:"reason"`
	Note   Sealed `json:"note,omitzero"`
}

// EventType implements Event.
func (LegalHoldPlaced) EventType() string { return "LegalHoldPlaced" }

// LegalHoldLifted: an admin lifted the case's legal hold; the retention
// rule applies again.
type LegalHoldLifted struct{}

// EventType implements Event.
func (LegalHoldLifted) EventType() string { return "LegalHoldLifted" }
