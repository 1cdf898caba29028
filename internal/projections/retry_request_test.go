package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cihui/internal/events"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// Issue 15: a retry asked for one quarantined event (the API marks it)
// is done by the running projector for that event and the events held
// behind it only; another stream's quarantined event stays until asked
// for, even once it would apply. An unknown position is not found.
func TestRetryRequestOfOneEventLeavesTheOthers(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	last := seed(t, e, 2)
	waitFor(t, e, last)
	ids := caseIDs(t, e)
	if _, err := e.DB.Exec(`ALTER TABLE case_documents ADD CONSTRAINT test_poison CHECK (pages IS DISTINCT FROM 5000)`); err != nil {
		t.Fatal(err)
	}
	first := inject(t, e, ids[0], events.DocumentSubmitted{Item: 4, Pages: 5000})
	inject(t, e, ids[0], events.DocumentSubmitted{Item: 6, Pages: 1})
	second := inject(t, e, ids[1], events.DocumentSubmitted{Item: 4, Pages: 5000})
	waitFor(t, e, second)
	if got := quarantineRows(t, e); len(got) != 2 {
		t.Fatalf("quarantined: %v", got)
	}
	ctx := context.Background()
	if _, err := projections.RequestRetry(ctx, e.DB, "per_admin", 999999); err == nil {
		t.Error("a retry of an unknown position was accepted")
	}
	if _, err := e.DB.Exec(`ALTER TABLE case_documents DROP CONSTRAINT test_poison`); err != nil {
		t.Fatal(err)
	}
	if n, err := projections.RequestRetry(ctx, e.DB, "per_admin", first); err != nil || n != 1 {
		t.Fatalf("request: %d, %v", n, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(quarantineRows(t, e)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the projector did not retry the asked event: %v", quarantineRows(t, e))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := fmt.Sprint(submittedItems(t, e, ids[0])); got != "[1 2 3 4 6]" {
		t.Errorf("the asked case's items: %s", got)
	}
	time.Sleep(2 * time.Second) // several polls of the projector
	if rows := quarantineRows(t, e); len(rows) != 1 || rows[0].Position != int64(second) || rows[0].Attempts != 3 {
		t.Errorf("the other stream's event was retried without being asked: %v", rows)
	}
	list, err := projections.ListQuarantine(ctx, e.DB)
	if err != nil || len(list) != 1 || list[0].RetryRequestedAt != nil || list[0].ErrorClass != "integrity_constraint_violation" {
		t.Errorf("list: %+v, %v", list, err)
	}
}
