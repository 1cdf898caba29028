package app_test

import (
	"context"
	"sync"
	"testing"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/jetstream"
	"cihui/internal/testenv"
)

// Issue 13: commands decide on this process's cached aggregate without a
// round trip. These tests run two "processes" on one stream: e.App with
// e.Store, and another service on a store of its own (its own cache),
// whose writes e.App's cache does not see.

var school = app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}

// otherProcess returns a service on its own store over e's stream.
func otherProcess(t *testing.T, e *testenv.Env) *app.Service {
	t.Helper()
	st, err := jetstream.Open(context.Background(), e.NC, e.Codec, jetstream.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &app.Service{Store: st, Sealer: e.Sealer, Clock: e.Clock, Branches: e.App.Branches, PersonCases: e.App.PersonCases}
}

// openCached opens a referral through e.App and submits item 1, so that
// e.App's store caches the case; it returns the case id.
func openCached(t *testing.T, e *testenv.Env) string {
	t.Helper()
	ctx := context.Background()
	res, err := e.App.OpenReferral(ctx, school, domain.OpenReferral{
		Route: domain.RouteMidYear, Channel: domain.ChannelDirect, Grade: 8, Sex: "F",
		Grounds: []string{domain.GroundLowIncome}, GuardianConsent: true, StudentWilling: true,
		Person: domain.Person{StudentName: "測試", NationalID: testenv.NewNationalID(), BirthDate: "2012-01-01", GuardianName: "g", Reason: "r"},
	})
	if err != nil {
		t.Fatal(err)
	}
	must(t)(e.App.SubmitDocument(ctx, school, res.ID, 1, 1, nil, false))
	return res.ID
}

func caseStream(e *testenv.Env, id string) events.StreamID {
	return events.StreamID{Branch: e.Branch.Code, Type: events.AggregateReferral, ID: id}
}

// submitted lists the items of the case's DocumentSubmitted events, in
// order, from the server.
func submitted(t *testing.T, e *testenv.Env, id string) []int {
	t.Helper()
	cold, err := jetstream.Open(context.Background(), e.NC, e.Codec, jetstream.Config{CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := cold.Load(context.Background(), caseStream(e, id))
	if err != nil {
		t.Fatal(err)
	}
	var items []int
	for i, env := range l.Events {
		if env.Version != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, env.Version)
		}
		if d, ok := env.Payload.(events.DocumentSubmitted); ok {
			items = append(items, d.Item)
		}
	}
	return items
}

// A cache that missed another process's write still decides correctly:
// the append on the stale state conflicts, the events it missed were
// recorded before the command began, so the command decides again on the
// server's state. Nothing is lost and the answer is the new version.
func TestStaleCacheDecidesAgainWithoutLostUpdate(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	ctx := context.Background()
	other := otherProcess(t, e)
	id := openCached(t, e)
	behind, err := other.SubmitDocument(ctx, school, id, 2, 1, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.App.SubmitDocument(ctx, school, id, 3, 1, nil, false)
	if err != nil {
		t.Fatalf("a command on a stale cache: %v", err)
	}
	if res.Version != behind.Version+1 || res.Position <= behind.Position {
		t.Fatalf("command after the other process's version %d/%d answered %d/%d", behind.Version, behind.Position, res.Version, res.Position)
	}
	if got := submitted(t, e, id); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("items recorded %v, want [1 2 3]", got)
	}
	// The cache now holds the server's state: the next command appends
	// right after it.
	res2, err := e.App.SubmitDocument(ctx, school, id, 4, 1, nil, false)
	if err != nil || res2.Version != res.Version+1 {
		t.Fatalf("next command: %+v, %v", res2, err)
	}
}

// R-DOC-1: a social worker checks only an item handed in. The item was
// handed in through the other process, so this process's cache refuses
// the check; the refusal is rechecked on the server's state, where the
// check is allowed.
func TestRuleRefusalOnStaleCacheIsRechecked(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	ctx := context.Background()
	other := otherProcess(t, e)
	id := openCached(t, e)
	if _, err := other.SubmitDocument(ctx, school, id, 2, 1, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.CheckDocument(ctx, worker, id, 2, true, ""); err != nil {
		t.Fatalf("check of an item handed in through another process: %v", err)
	}
	// A refusal on the server's state stands.
	if _, err := e.App.CheckDocument(ctx, worker, id, 7, true, ""); domain.ErrorCode(err) != domain.ERule {
		t.Fatalf("check of an item never handed in: %v", err)
	}
}

// If-Match names the version the caller saw, here one written through the
// other process: this process's cache is behind it, and is rechecked
// rather than answering 412. A version truly behind is still 412.
func TestIfMatchOnStaleCacheIsRechecked(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	ctx := context.Background()
	other := otherProcess(t, e)
	id := openCached(t, e)
	seen, err := other.SubmitDocument(ctx, school, id, 2, 1, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	m := school
	m.IfMatch = &seen.Version
	res, err := e.App.SubmitDocument(ctx, m, id, 3, 1, nil, false)
	if err != nil || res.Version != seen.Version+1 {
		t.Fatalf("If-Match of the current version through a stale cache: %+v, %v", res, err)
	}
	if _, err := e.App.SubmitDocument(ctx, m, id, 4, 1, nil, false); domain.ErrorCode(err) != domain.EPrecondition {
		t.Fatalf("If-Match of an older version: %v", err)
	}
}

// racingStore is e.Store with a write by another process slipped in
// between a command's decision and its append: a true concurrent change.
type racingStore struct {
	*jetstream.Store
	once  sync.Once
	write func()
}

func (s *racingStore) Append(ctx context.Context, appends ...events.Append) ([]events.Envelope, error) {
	s.once.Do(s.write)
	return s.Store.Append(ctx, appends...)
}

// A change recorded while the command ran is a conflict (409), with or
// without a cached aggregate: the command is not decided again.
func TestConcurrentChangeStillConflicts(t *testing.T) {
	for _, ifMatch := range []bool{false, true} {
		e := testenv.New(t, testenv.Options{NoProjector: true})
		ctx := context.Background()
		other := otherProcess(t, e)
		id := openCached(t, e)
		racing := &racingStore{Store: e.Store, write: func() {
			if _, err := other.SubmitDocument(ctx, school, id, 2, 1, nil, false); err != nil {
				t.Error(err)
			}
		}}
		svc := &app.Service{Store: racing, Sealer: e.Sealer, Clock: e.Clock, Branches: e.App.Branches}
		m, want := school, domain.EConflict
		if ifMatch {
			v := uint64(2)
			m.IfMatch, want = &v, domain.EPrecondition
		}
		if _, err := svc.SubmitDocument(ctx, m, id, 3, 1, nil, false); domain.ErrorCode(err) != want {
			t.Fatalf("If-Match %v: a change recorded while the command ran gave %v, want %s", ifMatch, err, want)
		}
		if got := submitted(t, e, id); len(got) != 2 || got[1] != 2 {
			t.Fatalf("items recorded %v, want [1 2]", got)
		}
	}
}

// An idempotent retry returns the first answer and records nothing: in
// the process that ran the first attempt (its cache holds it), and in
// another whose cache missed it. Another body with the same key is
// refused either way.
func TestIdempotentRetryAcrossStaleCache(t *testing.T) {
	e := testenv.New(t, testenv.Options{NoProjector: true})
	ctx := context.Background()
	other := otherProcess(t, e)
	id := openCached(t, e)
	before := submitted(t, e, id)
	m := school
	m.IdempotencyKey, m.RequestHash = "retry-1", "hash-a"
	first, err := other.SubmitDocument(ctx, m, id, 6, 2, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name string
		svc  *app.Service
	}{{"stale process", e.App}, {"same process", other}} {
		name, svc := p.name, p.svc
		again, err := svc.SubmitDocument(ctx, m, id, 6, 2, nil, false)
		if err != nil || !again.Replayed || again.Version != first.Version || again.Position != first.Position {
			t.Fatalf("%s: retry answered %+v, %v; first %+v", name, again, err, first)
		}
		other := m
		other.RequestHash = "hash-b"
		if _, err := svc.SubmitDocument(ctx, other, id, 7, 2, nil, false); domain.ErrorCode(err) != domain.EIdempotency {
			t.Fatalf("%s: the key with another body: %v", name, err)
		}
	}
	if got := submitted(t, e, id); len(got) != len(before)+1 {
		t.Fatalf("items recorded %v, before the command %v: want exactly one more", got, before)
	}
}
