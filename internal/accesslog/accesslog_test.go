package accesslog_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"cihui/internal/accesslog"
	"cihui/internal/jetstream"
)

func valid() accesslog.Record {
	return accesslog.Record{ID: accesslog.NewID(), At: time.Now(), RequestID: "req1", Method: "GET", Route: "/v1/referrals/:id",
		Actor: accesslog.Actor{Role: "social_worker", Branch: "xiucai", TokenID: "tok_0123"}, Cases: []string{"rabc"}}
}

// The access log is append-only with its own retention: file storage,
// MaxAge as configured, message deletes and purges refused; a record with
// anything but ids in it is refused before it is written.
func TestStreamIsAppendOnlyAndRecordsHoldIdsOnly(t *testing.T) {
	authDir := t.TempDir()
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: t.TempDir(), AuthDir: authDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	creds, err := jetstream.Credentials(authDir, jetstream.UserAPI)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), creds)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	l, err := accesslog.Open(ctx, nc, accesslog.Config{MaxAge: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(ctx, valid()); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(r *accesslog.Record){
		"a name as a case":        func(r *accesslog.Record) { r.Cases = []string{"王小明"} },
		"no case":                 func(r *accesslog.Record) { r.Cases = nil },
		"a raw path with a query": func(r *accesslog.Record) { r.Route = "/v1/referrals?name=x" },
		"free text as token":      func(r *accesslog.Record) { r.Actor.TokenID = "A123456789 王" },
		"free text request id":    func(r *accesslog.Record) { r.RequestID = "王小明" },
	} {
		r := valid()
		mutate(&r)
		if err := l.Write(ctx, r); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	st, err := l.JetStream().Stream(ctx, accesslog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.Storage != js.FileStorage || c.MaxAge != 48*time.Hour || !c.DenyDelete || !c.DenyPurge || c.Subjects[0] != "cihui_access.>" {
		t.Errorf("stream config: %+v", c)
	}
	if info.State.Msgs != 1 {
		t.Errorf("%d records, want the 1 valid one", info.State.Msgs)
	}
	if err := st.DeleteMsg(ctx, 1); err == nil {
		t.Error("a record was deleted")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("the access log was purged")
	}
	if accesslog.SafeRequestID("王小明") != "" || accesslog.SafeRequestID("abcDEF-12") != "abcDEF-12" {
		t.Error("SafeRequestID")
	}
}

func serve(t *testing.T) (*nats.Conn, func()) {
	t.Helper()
	authDir := t.TempDir()
	srv, err := jetstream.RunServer(jetstream.ServerOptions{StoreDir: t.TempDir(), AuthDir: authDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jetstream.Credentials(authDir, jetstream.UserAPI)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.ClientURL(), creds)
	if err != nil {
		t.Fatal(err)
	}
	stop := func() { srv.Shutdown(); srv.WaitForShutdown() }
	t.Cleanup(func() { nc.Close(); stop() })
	return nc, stop
}

// Group commit: concurrent writes share stream messages (fewer messages
// than records), and every write that returned without an error has its
// record in the stream: a read answered has its access record durable.
func TestGroupCommit_EveryAcknowledgedRecordIsInTheStream(t *testing.T) {
	nc, _ := serve(t)
	ctx := context.Background()
	l, err := accesslog.Open(ctx, nc, accesslog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := valid()
			if err := l.Write(ctx, r); err != nil {
				t.Errorf("write: %v", err)
				return
			}
			mu.Lock()
			acked[r.ID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	found, msgs := readAll(t, l)
	for id := range acked {
		if !found[id] {
			t.Errorf("record %s acknowledged but not in the stream", id)
		}
	}
	if len(acked) != n || len(found) != n {
		t.Errorf("%d acknowledged, %d in the stream, want %d", len(acked), len(found), n)
	}
	if msgs >= n {
		t.Errorf("%d messages for %d concurrent records: no group commit", msgs, n)
	}
	// The metrics: a wait per record, a publish per message, and the
	// batches' records add up to the records.
	reg := prometheus.NewRegistry()
	reg.MustRegister(l.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.Histogram{}
	for _, f := range fams {
		got[f.GetName()] = f.GetMetric()[0].GetHistogram()
	}
	if c := got["cihui_access_record_wait_seconds"].GetSampleCount(); c != n {
		t.Errorf("record waits observed: %d, want %d", c, n)
	}
	if c := got["cihui_access_publish_seconds"].GetSampleCount(); c != uint64(msgs) {
		t.Errorf("publishes observed: %d, want %d", c, msgs)
	}
	if b := got["cihui_access_batch_records"]; b.GetSampleCount() != uint64(msgs) || b.GetSampleSum() != n {
		t.Errorf("batches observed: %d holding %v records, want %d holding %d", b.GetSampleCount(), b.GetSampleSum(), msgs, n)
	}
}

// A write that cannot be made durable is an error, never a silent success:
// with the server gone, Write fails (the read is refused).
func TestGroupCommit_WriteFailsWhenTheStreamCannotAcknowledge(t *testing.T) {
	nc, stop := serve(t)
	ctx := context.Background()
	l, err := accesslog.Open(ctx, nc, accesslog.Config{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(ctx, valid()); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := l.Write(ctx, valid()); err == nil {
		t.Fatal("a write was acknowledged with the server down")
	}
}

// readAll decodes every message of the stream (batches and single
// records) and returns the record ids and the number of messages.
func readAll(t *testing.T, l *accesslog.Log) (map[string]bool, int) {
	t.Helper()
	ctx := context.Background()
	st, err := l.JetStream().Stream(ctx, l.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		recs, errs, err := accesslog.Decode(m.Subject, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if errs[i] != nil {
				t.Errorf("record %d of message %d: %v", i, seq, errs[i])
			}
			found[r.ID] = true
		}
	}
	return found, int(info.State.Msgs)
}
