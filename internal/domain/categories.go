package domain

import (
	"slices"

	"cihui/internal/events"
)

// The closed sets of the statistical categories a referral records
// (R-STAT-2); the constants are those of the statistics (statistics.go).
var (
	FamilyBackgrounds = []string{BackgroundBothParents, BackgroundSingleParent, BackgroundNoParent, CategoryUnknown}
	IdentityFlags     = []string{IdentityIndigenous, IdentityNewImmigrantParent, IdentityInstitutionalCare}
)

// Categories are the statistical categories of a referral that the
// breakdowns of the national dropout table need (R-STAT-2): the family
// background (背景) and the identity flags (身分). They are codes,
// recorded in the clear on the referral's events (issue 11), so they
// survive an erasure.
//
// FamilyBackground is a Background* constant or CategoryUnknown. Identity
// lists the Identity* flags that apply, sorted (empty: none applies), or
// is exactly [CategoryUnknown] when the flags were never recorded — the
// values of the identity breakdown. As a command's input (a filing, a
// correction) an empty FamilyBackground and a nil Identity are "not
// given".
type Categories struct {
	FamilyBackground string   `json:"family_background"`
	Identity         []string `json:"identity"`
}

// UnknownCategories is the categories of a case that recorded none.
func UnknownCategories() Categories {
	return Categories{FamilyBackground: CategoryUnknown, Identity: []string{CategoryUnknown}}
}

// IdentityKnown reports whether the identity flags were recorded.
func (c Categories) IdentityKnown() bool {
	return c.Identity != nil && !slices.Contains(c.Identity, CategoryUnknown)
}

// Has reports whether the identity flag applies (false when unknown).
func (c Categories) Has(flag string) bool {
	return c.IdentityKnown() && slices.Contains(c.Identity, flag)
}

// CategoriesOf reads the categories an event recorded; what it never
// recorded (every event written before categories were carried) is
// unknown.
func CategoriesOf(e events.Categories) Categories {
	c := UnknownCategories()
	if e.FamilyBackground != "" {
		c.FamilyBackground = e.FamilyBackground
	}
	if e.IdentityKnown {
		c.Identity = sortedFlags(e.Identity)
	}
	return c
}

// Event returns the categories as an event records them: unknown is left
// out.
func (c Categories) Event() events.Categories {
	var e events.Categories
	if c.FamilyBackground != CategoryUnknown {
		e.FamilyBackground = c.FamilyBackground
	}
	if c.IdentityKnown() {
		e.IdentityKnown, e.Identity = true, sortedFlags(c.Identity)
	}
	return e
}

// Merge returns c with what patch gives replaced: a correction names only
// what it changes, and gives "unknown" to clear a value.
func (c Categories) Merge(patch Categories) Categories {
	if patch.FamilyBackground != "" {
		c.FamilyBackground = patch.FamilyBackground
	}
	if patch.Identity != nil {
		c.Identity = sortedFlags(patch.Identity)
		if slices.Contains(patch.Identity, CategoryUnknown) {
			c.Identity = []string{CategoryUnknown}
		}
	}
	return c
}

// Equal reports whether c and o hold the same categories.
func (c Categories) Equal(o Categories) bool {
	return c.FamilyBackground == o.FamilyBackground && slices.Equal(c.Identity, o.Identity)
}

// IsZero reports whether nothing is given.
func (c Categories) IsZero() bool { return c.FamilyBackground == "" && c.Identity == nil }

func sortedFlags(flags []string) []string {
	out := slices.Clone(flags)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// validateCategories checks the closed sets; "unknown" stands alone.
func validateCategories(prefix string, c Categories, ck *Check) {
	ck.OneOf(prefix+"family_background", c.FamilyBackground, FamilyBackgrounds, false)
	if slices.Contains(c.Identity, CategoryUnknown) {
		if len(c.Identity) != 1 {
			ck.Set(prefix+"identity", `"unknown" stands alone`)
		}
		return
	}
	ck.EachOneOf(prefix+"identity", c.Identity, IdentityFlags, len(IdentityFlags))
}

// ValidateCategories checks a correction of the categories: closed sets,
// and something to correct.
func ValidateCategories(c Categories) error {
	var ck Check
	validateCategories("", c, &ck)
	if c.IsZero() {
		ck.Set("family_background", "give family_background or identity to correct")
	}
	return ck.Err()
}

// CorrectCategories records a correction of the referral's statistical
// categories by the origin school or the branch's social workers (issue
// 11). What the patch leaves out keeps its value; a correction that
// changes nothing reports changed false and records nothing. Categories
// are codes kept in the clear, so they can be corrected after an erasure
// too.
func (r *Referral) CorrectCategories(a events.Actor, patch Categories) (e events.CategoriesCorrected, changed bool, err error) {
	if a.Role != RoleOriginSchool && a.Role != RoleSocialWorker {
		return e, false, Errorf(EForbidden, "categories are corrected by the origin school or the branch school's social workers")
	}
	if err := ValidateCategories(patch); err != nil {
		return e, false, err
	}
	next := r.Categories.Merge(patch)
	if next.Equal(r.Categories) {
		return e, false, nil
	}
	return events.CategoriesCorrected{Categories: next.Event()}, true, nil
}
