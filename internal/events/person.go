package events

// PersonReferred (person stream): a referral of the student was filed at
// the branch. The person stream, cihui.<branch>.person.<person key>, lists
// every referral of one student at one branch; a filing appends to it with
// the stream's expected last sequence, in the same atomic batch as the
// referral's ReferralOpened, so two concurrent filings of one student
// never both pass the duplicate check (R-CAP-1). The person key is the
// student's random data-key id: nothing here is derived from the national
// ID.
type PersonReferred struct {
	ReferralID   string `json:"referral_id"`
	OriginSchool string `json:"origin_school"`
	// PossibleDuplicateOf lists the student's referrals from other
	// schools that were open when this one was filed: the branch's
	// social workers see them flagged; the filing school never does.
	PossibleDuplicateOf []string `json:"possible_duplicate_of,omitempty"`
}

// EventType implements Event.
func (PersonReferred) EventType() string { return "PersonReferred" }

// Categories are the statistical categories of a referral (R-STAT-2),
// recorded in the clear so that they survive an erasure. What was never
// recorded reads as unknown: an empty FamilyBackground, and identity flags
// with IdentityKnown false (as in every event written before categories
// were carried).
type Categories struct {
	// FamilyBackground: both_parents | single_parent | no_parent (雙親,
	// 單親, 失親).
	FamilyBackground string `json:"family_background,omitempty"`
	// IdentityKnown: the identity flags were recorded; Identity then
	// lists those that apply (none is a valid answer).
	IdentityKnown bool `json:"identity_known,omitempty"`
	// Identity flags (身分): indigenous (原住民), new_immigrant_parent
	// (外籍配偶子女), institutional_care (安置教養).
	Identity []string `json:"identity,omitempty"`
}

// IsZero reports whether nothing is recorded.
func (c Categories) IsZero() bool {
	return c.FamilyBackground == "" && !c.IdentityKnown && len(c.Identity) == 0
}

// CategoriesCorrected (referral): the origin school or a social worker
// corrected the statistical categories; Categories holds all of them as
// they stand after the correction.
type CategoriesCorrected struct {
	Categories Categories `json:"categories"`
}

// EventType implements Event.
func (CategoriesCorrected) EventType() string { return "CategoriesCorrected" }
