package domain_test

import (
	"context"
	"testing"

	"cihui/internal/domain"
)

// R-ELIG-1: ground (a) is a dropout returned to school, so it needs a
// dropout record; with one it is accepted.
func TestR_ELIG_1_GroundANeedsDropoutRecord(t *testing.T) {
	c := cmd(at(2026, 2, 11))
	c.Grounds = []string{domain.GroundCrisisDropout}
	c.Person.CrisisType = domain.CrisisSingleParent
	if _, err := domain.Open(context.Background(), sealer(), c); ruleOf(err) != "R-ELIG-1" {
		t.Fatalf("ground (a) without a dropout record: %v, want R-ELIG-1", err)
	}
	c.DropoutRecord = true
	if _, err := domain.Open(context.Background(), sealer(), c); err != nil {
		t.Fatalf("ground (a) with a dropout record: %v", err)
	}
}

// R-EXCL-1: a student ever ordered into reformatory education (not only
// one under it) is not accepted.
func TestR_EXCL_1_EverOrdered(t *testing.T) {
	c := cmd(at(2026, 2, 11))
	c.Exclusions = []string{domain.ExclCriminalEverOrdered}
	if _, err := domain.Open(context.Background(), sealer(), c); ruleOf(err) != "R-EXCL-1" {
		t.Fatalf("ever ordered: %v, want R-EXCL-1", err)
	}
}
