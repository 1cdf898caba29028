package domain_test

import (
	"testing"

	"cihui/internal/domain"
)

// Issue 12: the defaults are today's behaviour and pass the checks; a
// cap below the seats held is R-CAP-1, never below is fine.
func TestDefaultBranchIsValidAndCapHeld(t *testing.T) {
	if err := domain.ValidateBranch(domain.DefaultBranch()); err != nil {
		t.Fatalf("the default branch: %v", err)
	}
	if err := domain.CheckCapHeld(10, 11); domain.AsError(err) == nil || domain.AsError(err).Rule != "R-CAP-1" {
		t.Fatalf("cap 10 with 11 held: %v", err)
	}
	if err := domain.CheckCapHeld(11, 11); err != nil {
		t.Fatalf("cap 11 with 11 held: %v", err)
	}
	old := domain.Branch{Code: "x", Cap: 1}
	if b := old.WithDefaults(); b.ClassNorms != domain.DefaultClassNorms() || b.MeetingMonths["october"] != 10 {
		t.Fatalf("defaults for a stored configuration without norms: %+v", b)
	}
}
