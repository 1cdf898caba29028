package httpapi

import (
	"testing"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// The body cache's terms (issue 13): a body is served to the same person
// only, at the mark it was built at only; one built while the read models
// moved is not kept; the bytes kept stay bounded.
func TestBodyCacheTerms(t *testing.T) {
	var bc bodyCache
	m := projections.Mark{Pos: 7, Gen: 1}
	f := projections.CaseFilter{Scope: projections.Scope{Branch: "b1"}, Limit: 50}
	a := bodyKey{filter: f, actor: events.Actor{Role: domain.RoleCommittee, UserID: "p1"}}
	b := a
	b.actor.UserID = "p2" // the same role and scope: the same page, another person
	bc.put(m, m, a, cachedBody{body: []byte("a")})
	if got, ok := bc.get(m, a); !ok || string(got.body) != "a" {
		t.Fatalf("get(a) = %q, %v; want the body kept", got.body, ok)
	}
	if _, ok := bc.get(m, b); ok {
		t.Error("another person got the body kept for the first")
	}
	for _, other := range []projections.Mark{{Pos: 8, Gen: 1}, {Pos: 7, Gen: 2}} {
		if _, ok := bc.get(other, a); ok {
			t.Errorf("the body kept at %v served at %v", m, other)
		}
	}
	later := projections.Mark{Pos: 9, Gen: 1}
	bc.put(later, projections.Mark{Pos: 10, Gen: 1}, a, cachedBody{body: []byte("moved")})
	if _, ok := bc.get(later, a); ok {
		t.Error("a body built while the read models moved was kept")
	}
	big := make([]byte, maxCachedBodyBytes/4)
	for i := range 8 {
		k := a
		k.filter.Limit = i + 1
		bc.put(m, m, k, cachedBody{body: big})
		if bc.bytes > maxCachedBodyBytes {
			t.Fatalf("%d bytes kept, the bound is %d", bc.bytes, maxCachedBodyBytes)
		}
	}
}
