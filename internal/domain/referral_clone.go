package domain

import "slices"

// Clone returns a deep copy of the referral's state: it shares no pointer,
// slice or map with r, so that a command can decide on the copy of a
// cached state while others read the cache (issue 13). A field added to
// Referral (or to a type it holds) that refers to memory must be copied
// here; TestReferralCloneSharesNothing fills every field and fails if
// the copy shares any memory with the original.
func (r *Referral) Clone() *Referral {
	c := *r
	for i := range c.Documents {
		c.Documents[i].IssuedOn = clonePtr(c.Documents[i].IssuedOn)
	}
	c.Visit.ReportOn = clonePtr(c.Visit.ReportOn)
	c.Admission = r.Admission.clone()
	c.Suspension = r.Suspension.clone()
	c.Categories.Identity = slices.Clone(r.Categories.Identity)
	if r.Acceptance != nil {
		a := *r.Acceptance
		a.Owed = slices.Clone(a.Owed)
		c.Acceptance = &a
	}
	c.Erased = clonePtr(r.Erased)
	if r.dropouts != nil {
		c.dropouts = make([]DropoutEpisode, len(r.dropouts), cap(r.dropouts))
		for i, d := range r.dropouts {
			d.ReportedOn, d.FoundOn = clonePtr(d.ReportedOn), clonePtr(d.FoundOn)
			d.ReturnedOn, d.ClosedOn = clonePtr(d.ReturnedOn), clonePtr(d.ClosedOn)
			c.dropouts[i] = d
		}
	}
	c.grounds = slices.Clone(r.grounds)
	return &c
}

func (a Admission) clone() Admission {
	a.Attendees = slices.Clone(a.Attendees)
	a.Registrations = slices.Clone(a.Registrations)
	a.HealthExamined, a.HealthCleared = clonePtr(a.HealthExamined), clonePtr(a.HealthCleared)
	a.EnrolledOn, a.Ended = clonePtr(a.EnrolledOn), clonePtr(a.Ended)
	return a
}

func (s Suspension) clone() Suspension {
	s.Grounds = slices.Clone(s.Grounds)
	s.HomeVisit, s.SchoolVisit = clonePtr(s.HomeVisit), clonePtr(s.SchoolVisit)
	s.ReportOn, s.SuspendedOn = clonePtr(s.ReportOn), clonePtr(s.SuspendedOn)
	return s
}

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
