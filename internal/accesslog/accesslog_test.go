package accesslog_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

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
