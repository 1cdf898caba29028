package projections_test

import (
	"context"
	"testing"
	"time"

	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// Issue 13: a rebuild's switch moves the waiter's generation, so that what
// a reader cached from the live tables (the API's list pages) is not
// served from the rebuilt ones, also where the switch leaves the read
// position where it was.
func TestIssue13RebuildSwitchMovesTheReadersGeneration(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 2)
	waitFor(t, e, last)
	before := e.Waiter.Mark()
	res, err := projections.Rebuild(context.Background(), rebuildOptions(t, e, false, 3))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.Waiter.Mark().Gen == before.Gen {
		if time.Now().After(deadline) {
			t.Fatalf("the switch (%+v) left the generation at %d", res, before.Gen)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.Waiter.Mark().Pos; got < before.Pos {
		t.Errorf("position %d after the switch, was %d", got, before.Pos)
	}
}
