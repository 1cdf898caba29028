package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/accesslog"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// The access-log projector reads both forms of the stream: older messages
// of one record each and batch messages of many (group commit), one row
// per record; a bad record in a batch is skipped and its neighbours kept;
// the rows page in order with the position.index cursor.
func TestAccessProjector_ReadsSingleAndBatchedRecords(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	rec := func(c string) accesslog.Record {
		return accesslog.Record{ID: accesslog.NewID(), At: time.Now().UTC(), Method: "GET", Route: "/v1/referrals/:id",
			Actor: accesslog.Actor{Role: "social_worker", TokenID: "tok_1"}, Cases: []string{c}}
	}
	// An older single-record message.
	single, _ := json.Marshal(rec("rsingle"))
	if _, err := e.Access.JetStream().Publish(ctx, "cihui_access.social_worker", single, js.WithExpectStream(e.Access.StreamName())); err != nil {
		t.Fatal(err)
	}
	// A batch with a bad record in the middle.
	a, _ := json.Marshal(rec("rbatch1"))
	bad, _ := json.Marshal(rec("王小明"))
	b, _ := json.Marshal(rec("rbatch2"))
	body, _ := json.Marshal(accesslog.Batch{Records: []json.RawMessage{a, bad, b}})
	if _, err := e.Access.JetStream().Publish(ctx, accesslog.BatchSubject, body, js.WithExpectStream(e.Access.StreamName())); err != nil {
		t.Fatal(err)
	}
	// And one through the group-commit writer.
	if err := e.Access.Write(ctx, rec("rwriter")); err != nil {
		t.Fatal(err)
	}
	e.StartProjector()
	reader := projections.NewReader(e.DB)
	var rows []projections.AccessEntry
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if rows, err = reader.AccessLog(ctx, projections.AccessFilter{Limit: 100}); err != nil {
			t.Fatal(err)
		}
		if len(rows) >= 4 {
			break
		}
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Cases[0])
	}
	want := []string{"rsingle", "rbatch1", "rbatch2", "rwriter"}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows %v, want %v", got, want)
		}
	}
	if rows[1].Position != rows[2].Position || rows[1].Index != 0 || rows[2].Index != 2 {
		t.Errorf("batch rows: position %d/%d index %d/%d", rows[1].Position, rows[2].Position, rows[1].Index, rows[2].Index)
	}
	// Paging one row at a time through the middle of the batch sees each once.
	page, err := reader.AccessLog(ctx, projections.AccessFilter{After: rows[1].Position, AfterIndex: rows[1].Index, Limit: 1})
	if err != nil || len(page) != 1 || page[0].Cases[0] != "rbatch2" {
		t.Errorf("page after the batch's first record: %v %v", page, err)
	}
}
