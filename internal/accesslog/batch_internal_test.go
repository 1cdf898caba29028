package accesslog

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The hand-written batch body is byte for byte what encoding/json writes
// for the same Batch.
func TestBatchBodyIsTheBatchJSON(t *testing.T) {
	for n := range 4 {
		var batch []pending
		var want Batch
		want.Records = []json.RawMessage{}
		for i := range n {
			r := Record{ID: NewID(), At: time.Date(2026, 12, 7, 9, i, 0, 0, time.UTC), RequestID: "req", Method: "GET",
				Route: "/v1/referrals/:id", Actor: Actor{Role: "social_worker", Branch: "xiucai"}, Cases: []string{"rabc", "rdef"}}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, pending{data: b})
			want.Records = append(want.Records, b)
		}
		wb, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if got := batchBody(batch); !bytes.Equal(got, wb) {
			t.Errorf("%d records:\n got %s\nwant %s", n, got, wb)
		}
	}
}
