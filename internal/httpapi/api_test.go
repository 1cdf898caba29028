package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
	"cihui/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func referralPath(id string) string { return "/v1/referrals/" + id }

// open files a referral and returns its id and position.
func open(t *testing.T, e *testenv.Env, token string, body any, headers ...string) (string, uint64) {
	t.Helper()
	r := e.Do("POST", "/v1/referrals", token, body, headers...)
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /v1/referrals = %d: %s", r.Status, r.Body)
	}
	var res struct {
		ID       string `json:"id"`
		Version  uint64 `json:"version"`
		Position uint64 `json:"position"`
	}
	r.Decode(t, &res)
	if res.ID == "" || res.Version != 1 || res.Position == 0 {
		t.Fatalf("command result %+v", res)
	}
	return res.ID, res.Position
}

func TestOpenThenReadYourWrite(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, pos := open(t, e, school, testenv.ValidReferral("A123456789"))

	r := e.Do("GET", fmt.Sprintf("%s?min_position=%d", referralPath(id), pos), school, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET = %d: %s", r.Status, r.Body)
	}
	got := r.JSON(t)
	if got["id"] != id || got["origin_school"] != "034501" || got["route"] != "mid_year" || got["stage"] != "intake" {
		t.Fatalf("referral = %v", got)
	}
	if got["received_on"] != "2026-02-11" {
		t.Fatalf("received_on = %v, want the clock's date 2026-02-11", got["received_on"])
	}
	st, _ := got["student"].(map[string]any)
	if st["name"] != "測試學生" || st["national_id"] != "A123456789" {
		t.Fatalf("origin school should see its own student's data: %v", st)
	}
	if h, _ := strconv.ParseUint(r.Header.Get("X-Read-Position"), 10, 64); h < pos {
		t.Fatalf("X-Read-Position = %d, want >= %d", h, pos)
	}

	// The committee reads the case but not the personal data.
	committee := e.Token(domain.RoleCommittee, "")
	c := e.Do("GET", referralPath(id), committee, nil).JSON(t)
	if c["student"] != nil {
		t.Fatalf("committee must not see personal data: %v", c["student"])
	}

	tl := e.Do("GET", referralPath(id)+"/events", school, nil).JSON(t)
	evs, _ := tl["events"].([]any)
	if len(evs) != 1 || !strings.Contains(evs[0].(map[string]any)["summary"].(string), "034501") {
		t.Fatalf("timeline = %v", tl)
	}
}

func TestOtherSchoolGets404(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	mine := e.Token(domain.RoleOriginSchool, "034501")
	other := e.Token(domain.RoleOriginSchool, "034502")
	id, pos := open(t, e, mine, testenv.ValidReferral("A123456789"))
	q := fmt.Sprintf("?min_position=%d", pos)
	for _, p := range []string{referralPath(id) + q, referralPath(id) + "/events" + q} {
		r := e.Do("GET", p, other, nil)
		if r.Status != http.StatusNotFound || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s by another school = %d %s, want 404 problem+json", p, r.Status, r.Header.Get("Content-Type"))
		}
		if bytes.Contains(r.Body, []byte("034501")) {
			t.Errorf("404 reveals the owner: %s", r.Body)
		}
	}
	// Writing is refused the same way, even with a stale If-Match.
	r := e.Do("PUT", referralPath(id)+"/documents/2", other, map[string]any{"pages": 2})
	if r.Status != http.StatusNotFound {
		t.Errorf("PUT by another school = %d, want 404", r.Status)
	}
	if r := e.Do("PUT", referralPath(id)+"/documents/2", other, map[string]any{"pages": 2}, "If-Match", `"7"`); r.Status != http.StatusNotFound {
		t.Errorf("PUT by another school with If-Match = %d, want 404", r.Status)
	}
	list := e.Do("GET", "/v1/referrals"+q, other, nil).JSON(t)
	if items := list["items"].([]any); len(items) != 0 {
		t.Errorf("another school lists %d cases, want 0", len(items))
	}
	if items := e.Do("GET", "/v1/referrals"+q, mine, nil).JSON(t)["items"].([]any); len(items) != 1 {
		t.Errorf("own school lists %d cases, want 1", len(items))
	}
}

func TestBadInputIs400AndAppendsNothing(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	valid := testenv.ValidReferral("A123456789")
	unknown := testenv.ValidReferral("A123456789")
	unknown["favourite_colour"] = "blue"
	wrongType := testenv.ValidReferral("A123456789")
	wrongType["grade"] = "eight"
	badID := testenv.ValidReferral("A123456788")
	cases := map[string]any{
		"invalid JSON":       `{"route": "mid_year",`,
		"not an object":      `[1,2]`,
		"trailing data":      `{} {}`,
		"empty":              ``,
		"unknown field":      unknown,
		"wrong type":         wrongType,
		"bad ID checksum":    badID,
		"missing everything": map[string]any{},
	}
	before, _ := e.Store.LastPosition(context.Background())
	for name, body := range cases {
		r := e.Do("POST", "/v1/referrals", school, body)
		if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s: %s", name, r.Status, r.Header.Get("Content-Type"), r.Body)
			continue
		}
		p := r.JSON(t)
		if p["code"] != "invalid" || p["status"] != float64(400) {
			t.Errorf("%s: problem = %v", name, p)
		}
		// Personal data is never echoed in errors.
		if bytes.Contains(r.Body, []byte("A123456788")) || bytes.Contains(r.Body, []byte("測試學生")) {
			t.Errorf("%s: the error echoes personal data: %s", name, r.Body)
		}
	}
	if p := e.Do("POST", "/v1/referrals", school, wrongType).JSON(t); p["errors"].(map[string]any)["grade"] == nil {
		t.Errorf("wrong type should name the field: %v", p)
	}
	after, _ := e.Store.LastPosition(context.Background())
	if after != before {
		t.Fatalf("bad requests appended events: position %d -> %d", before, after)
	}
	// And a valid one still works.
	open(t, e, school, valid)
}

func TestNoToken401WrongRole403(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	if r := e.Do("GET", "/v1/referrals", "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.Status)
	}
	if r := e.Do("GET", "/v1/referrals", "chk_not-a-token", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("bad token: %d", r.Status)
	}
	sw := e.Token(domain.RoleSocialWorker, "")
	if r := e.Do("POST", "/v1/referrals", sw, testenv.ValidReferral("A123456789")); r.Status != http.StatusForbidden {
		t.Errorf("social worker opening a referral: %d", r.Status)
	}
}

func TestIdempotentRetryBeyondDedupeWindow(t *testing.T) {
	// A tiny server-side duplicate window: the retry comes after it.
	e := testenv.New(t, testenv.Options{Duplicates: 200 * time.Millisecond})
	school := e.Token(domain.RoleOriginSchool, "034501")
	body := testenv.ValidReferral("A123456789")
	id1, pos1 := open(t, e, school, body, "Idempotency-Key", "k-1")
	time.Sleep(600 * time.Millisecond)
	r := e.Do("POST", "/v1/referrals", school, body, "Idempotency-Key", "k-1")
	if r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry = %d replayed=%q: %s", r.Status, r.Header.Get("Idempotent-Replayed"), r.Body)
	}
	got := r.JSON(t)
	if got["id"] != id1 || got["position"] != float64(pos1) {
		t.Fatalf("retry returned %v, want id %s position %d", got, id1, pos1)
	}
	if last, _ := e.Store.LastPosition(context.Background()); last != pos1 {
		t.Fatalf("retry appended: last position %d, want %d", last, pos1)
	}
	// The same key with another body is refused; nothing appended.
	other := testenv.ValidReferral("A800000014")
	if r := e.Do("POST", "/v1/referrals", school, other, "Idempotency-Key", "k-1"); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("key reuse with another body = %d: %s", r.Status, r.Body)
	}
	// Another school's identical key is a different command.
	id2, _ := open(t, e, e.Token(domain.RoleOriginSchool, "034502"), body, "Idempotency-Key", "k-1")
	if id2 == id1 {
		t.Fatal("idempotency keys of two schools collided")
	}

	// Retries of a document command, also beyond the window.
	put := func() map[string]any {
		r := e.Do("PUT", referralPath(id1)+"/documents/2", school, map[string]any{"pages": 3}, "Idempotency-Key", "doc-2")
		if r.Status != http.StatusOK {
			t.Fatalf("PUT = %d: %s", r.Status, r.Body)
		}
		return r.JSON(t)
	}
	a := put()
	time.Sleep(600 * time.Millisecond)
	b := put()
	if a["version"] != float64(2) || b["version"] != a["version"] || b["position"] != a["position"] {
		t.Fatalf("document retry: first %v, retry %v", a, b)
	}
}

func TestConcurrentChangesConflict(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, _ := open(t, e, school, testenv.ValidReferral("A123456789"))
	// Two clients saw version 1; the second write with If-Match: "1" fails.
	if r := e.Do("PUT", referralPath(id)+"/documents/2", school, map[string]any{"pages": 1}, "If-Match", `"1"`); r.Status != http.StatusOK {
		t.Fatalf("first write = %d: %s", r.Status, r.Body)
	}
	r := e.Do("PUT", referralPath(id)+"/documents/3", school, map[string]any{"pages": 1}, "If-Match", `"1"`)
	if r.Status != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match = %d: %s", r.Status, r.Body)
	}
	// Parallel writers without If-Match are all serialised by the store's
	// expected-sequence check: no lost update, every version is taken once.
	const n = 8
	res := make(chan int, n)
	for i := range n {
		go func() {
			r := e.Do("PUT", referralPath(id)+fmt.Sprintf("/documents/%d", []int{1, 4, 6, 7, 8, 9, 10, 12}[i%8]), school, map[string]any{"pages": i + 1})
			res <- r.Status
		}()
	}
	ok, conflict := 0, 0
	for range n {
		switch s := <-res; s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	l, err := e.Store.Load(context.Background(), streamOf(e, id))
	if err != nil {
		t.Fatal(err)
	}
	if int(l.Version) != 2+ok || ok+conflict != n || ok == 0 {
		t.Fatalf("ok %d conflict %d, stream version %d", ok, conflict, l.Version)
	}
}

func TestNoPlaintextPersonalDataInJetStreamFiles(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	body := testenv.ValidReferral("A123456789")
	body["reason"] = "父親長期失業家中經濟困難"
	id, _ := open(t, e, school, body)
	sw := e.Token(domain.RoleSocialWorker, "")
	if r := e.Do("PUT", referralPath(id)+"/documents/1", school, map[string]any{"pages": 1}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := e.Do("PUT", referralPath(id)+"/documents/1", sw, map[string]any{"conforms": true, "note": "家訪備註：母親夜班"}); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	// Flush everything to disk by stopping the server.
	e.NC.Close()
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
	secrets := []string{"A123456789", "測試學生", "測試家長", "2012-05-01", "父親長期失業", "母親夜班", "離異依母", "清寒"}
	files := 0
	err := filepath.WalkDir(e.NATSDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds personal data in plaintext (%q)", path, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no JetStream files found: the test would prove nothing")
	}
}

// Social workers' tokens are scoped to their branch school: another
// branch's cases are not found, and its queue is not theirs.
func TestSocialWorkerScopedToBranch(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, pos := open(t, e, school, testenv.ValidReferral("A123456789"))
	otherBranch := domain.DefaultBranch()
	otherBranch.Code = "otherbranch"
	if err := postgres.NewBranches(e.DB).Put(context.Background(), otherBranch); err != nil {
		t.Fatal(err)
	}
	other, _, err := e.Tokens.Create(context.Background(), postgres.TokenInfo{Role: domain.RoleSocialWorker, Branch: otherBranch.Code})
	if err != nil {
		t.Fatal(err)
	}
	mine := e.Token(domain.RoleSocialWorker, "")
	q := fmt.Sprintf("?min_position=%d", pos)
	if r := e.Do("GET", referralPath(id)+q, mine, nil); r.Status != 200 {
		t.Fatalf("own branch: %d", r.Status)
	}
	if r := e.Do("GET", referralPath(id)+q, other, nil); r.Status != http.StatusNotFound {
		t.Fatalf("another branch's social worker: %d", r.Status)
	}
	if r := e.Do("PUT", referralPath(id)+"/documents/1", other, map[string]any{"conforms": true}); r.Status != http.StatusForbidden && r.Status != http.StatusNotFound {
		t.Fatalf("another branch's social worker writing: %d", r.Status)
	}
	if items := e.Do("GET", "/v1/home-visits/queue"+q, other, nil).JSON(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("another branch's queue shows %d cases", len(items))
	}
}

// Crypto-shredding through the API: an admin erases a student; every
// read model loses the personal data at once, a rebuild cannot bring it
// back, the timeline stays, and no new note can be sealed.
func TestErasure(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	sw := e.Token(domain.RoleSocialWorker, "")
	admin := e.Token(domain.RoleAdmin, "")
	id, _ := open(t, e, school, testenv.ValidReferral("A123456789"))
	if r := e.Do("PUT", referralPath(id)+"/documents/1", school, map[string]any{"pages": 1}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := e.Do("PUT", referralPath(id)+"/documents/1", sw, map[string]any{"conforms": true, "note": "備註"}); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := e.Do("POST", referralPath(id)+"/erasure", sw, map[string]any{"reason": "data_subject_request"}); r.Status != http.StatusForbidden {
		t.Fatalf("erasure by a social worker: %d", r.Status)
	}
	if r := e.Do("POST", referralPath(id)+"/erasure", admin, map[string]any{"reason": "because"}); r.Status != http.StatusBadRequest {
		t.Fatalf("erasure with a free-text reason: %d", r.Status)
	}
	r := e.Do("POST", referralPath(id)+"/erasure", admin, map[string]any{"reason": "data_subject_request"})
	if r.Status != 200 {
		t.Fatalf("erasure: %d %s", r.Status, r.Body)
	}
	first := r.JSON(t)
	pos := uint64(first["position"].(float64))
	// Issue 12: an erasure repeated is an idempotent no-op: the same
	// answer, and no second PersonErased (the timeline check below).
	again := e.Do("POST", referralPath(id)+"/erasure", admin, map[string]any{"reason": "data_subject_request"})
	if again.Status != 200 || fmt.Sprint(again.JSON(t)) != fmt.Sprint(first) {
		t.Fatalf("erasure repeated: %d %s, want 200 and %v", again.Status, again.Body, first)
	}
	got := e.Do("GET", fmt.Sprintf("%s?min_position=%d", referralPath(id), pos), sw, nil).JSON(t)
	if got["student"] != nil || got["documents"].([]any)[0].(map[string]any)["note"] != nil {
		t.Fatalf("after erasure: student %v, note %v", got["student"], got["documents"].([]any)[0])
	}
	tl := e.Do("GET", referralPath(id)+"/events", sw, nil).JSON(t)["events"].([]any)
	if len(tl) != 4 || tl[3].(map[string]any)["type"] != "PersonErased" {
		t.Fatalf("timeline after erasure: %v", tl)
	}
	if r := e.Do("PUT", referralPath(id)+"/documents/1", sw, map[string]any{"conforms": true, "note": "新備註"}); r.Status != http.StatusConflict {
		t.Fatalf("a note after erasure: %d %s", r.Status, r.Body)
	}
	// Re-filing the erased student is a new person (issue 8, finding 4):
	// see TestErasedStudentReferredAgainAsNewPerson.
	if r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral("A123456789")); r.Status != http.StatusCreated {
		t.Fatalf("re-filing an erased person: %d %s", r.Status, r.Body)
	}
}
