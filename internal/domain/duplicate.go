package domain

import (
	"slices"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// PersonReferrals is a student's referrals at one branch, folded from the
// person stream (events.PersonReferred). Every filing appends to it under
// the stream's expected sequence, so the duplicate check of R-CAP-1 holds
// in the event log itself, whatever the read models show.
type PersonReferrals struct {
	Cases   []string
	Version uint64
	LastSeq uint64
}

// Apply folds one event of the person stream.
func (p *PersonReferrals) Apply(env events.Envelope) {
	if e, ok := env.Payload.(events.PersonReferred); ok && !slices.Contains(p.Cases, e.ReferralID) {
		p.Cases = append(p.Cases, e.ReferralID)
	}
	p.Version = env.Version
	p.LastSeq = env.Position
}

// EndedStages are the stages in which a referral has ended for good: not
// admitted, the place declined or left, or lapsed (returned and not
// re-submitted, R-MID-3).
var EndedStages = []Stage{StageRejected, StageLeft, StageLapsed, StageGraduated}

// Ended reports whether the referral has ended on today, so that the
// student may be referred again (R-CAP-1): rejected, the place declined
// or left, or lapsed; an enrolled student graduates on Jul 31 of the
// academic year in grade 9; any other application lapses at the end of
// the academic year it was made for (see ClosedOn). A case found not
// eligible at the first review is still open: every first-reviewed case
// goes to the committee (R-MTG-2).
func (r *Referral) Ended(today calendar.Date) bool {
	if !r.Exists() || slices.Contains(EndedStages, r.Stage) {
		return true
	}
	stage := r.Stage
	if stage == StageNotEligible {
		stage = StageIntake // awaiting the committee: open until it lapses
	}
	return today.After(ClosedOn(RetentionFacts{Stage: stage, AcademicYear: r.AcademicYear, Grade: r.Grade}))
}

// CheckDuplicate applies R-CAP-1 to a new referral of a student from
// originSchool, given the student's other referrals at the branch: the
// same school may not refer a student who has an open referral there
// (conflict); a referral from another school is accepted, and the open
// referrals of other schools are returned, sorted, to be flagged to the
// branch's social workers as possible duplicates. The error names only
// the school's own case: the filing school learns nothing of another
// school's case.
func CheckDuplicate(originSchool string, others []*Referral, today calendar.Date) ([]string, error) {
	var dups []string
	for _, o := range others {
		if o == nil || o.Ended(today) {
			continue
		}
		if o.OriginSchool == originSchool {
			return nil, &Error{Code: EConflict, Rule: "R-CAP-1",
				Message: "the student already has an open referral from this school at this branch (" + o.ID + "): one student holds at most one place"}
		}
		dups = append(dups, o.ID)
	}
	slices.Sort(dups)
	return slices.Compact(dups), nil
}
