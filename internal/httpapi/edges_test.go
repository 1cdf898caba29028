package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/pgcluster"
	"cihui/internal/testenv"
)

// Issue 7, finding 6: DELETE and HEAD on a referral gave 404. A method a
// path does not have is 405 problem+json with Allow listing those it has;
// HEAD is answered wherever GET is, like GET without a body.
func TestWrongMethod405WithAllow(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, pos := open(t, e, school, testenv.ValidReferral("A123456789"))

	cases := []struct {
		method, path string
		allow        []string
	}{
		{"DELETE", referralPath(id), []string{"GET", "HEAD"}},
		{"PUT", referralPath(id), []string{"GET", "HEAD"}},
		{"PATCH", "/v1/referrals", []string{"GET", "HEAD", "POST"}},
		{"GET", referralPath(id) + "/withdrawal", []string{"POST"}},
		{"DELETE", referralPath(id) + "/documents/3", []string{"PUT"}},
		{"POST", "/healthz", []string{"GET", "HEAD"}},
	}
	for _, c := range cases {
		for _, token := range []string{school, ""} { // the method is refused before the token is checked
			r := e.Do(c.method, c.path, token, nil)
			if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s = %d %s, want 405 problem+json: %s", c.method, c.path, r.Status, r.Header.Get("Content-Type"), r.Body)
				continue
			}
			allow := r.Header.Get("Allow")
			for _, m := range c.allow {
				if !strings.Contains(allow, m) {
					t.Errorf("%s %s: Allow %q lacks %s", c.method, c.path, allow, m)
				}
			}
			if strings.Contains(allow, c.method) {
				t.Errorf("%s %s: Allow %q lists the refused method", c.method, c.path, allow)
			}
			if p := r.JSON(t); p["code"] != "method_not_allowed" || p["status"] != float64(405) {
				t.Errorf("%s %s: problem %v", c.method, c.path, p)
			}
		}
	}

	// HEAD answers like GET, without a body.
	get := e.Do("GET", referralPath(id)+"?min_position="+strconv.FormatUint(pos, 10), school, nil)
	head := e.Do("HEAD", referralPath(id)+"?min_position="+strconv.FormatUint(pos, 10), school, nil)
	if get.Status != 200 || head.Status != 200 || len(head.Body) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
		t.Fatalf("HEAD = %d %q (%d body bytes), GET = %d %q", head.Status, head.Header.Get("Content-Type"), len(head.Body), get.Status, get.Header.Get("Content-Type"))
	}
	if r := e.Do("HEAD", referralPath(id), "", nil); r.Status != http.StatusUnauthorized || len(r.Body) != 0 {
		t.Fatalf("HEAD without a token = %d, %d body bytes", r.Status, len(r.Body))
	}
	if r := e.Do("HEAD", "/healthz", "", nil); r.Status != 200 {
		t.Fatalf("HEAD /healthz = %d", r.Status)
	}
	// An unknown path stays 404.
	if r := e.Do("DELETE", "/v1/nothing-here", school, nil); r.Status != http.StatusNotFound {
		t.Fatalf("DELETE on an unknown path = %d", r.Status)
	}
}

// Issue 7, finding 6: a text/plain body was accepted as JSON. A command
// that takes JSON refuses any other body with 415 problem+json and appends
// nothing; JSON with charset=utf-8 passes; the CSV calendar import keeps
// working (TestCalendarReimportMovesDueDates).
func TestNonJSONBody415(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	before := lastPos(t, e)
	body := []byte(mustJSON(t, testenv.ValidReferral("A123456789")))
	for _, ct := range []string{"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "application/json; charset=big5", "application/jsonx", "", "absent"} {
		r := rawDo(t, e, "POST", "/v1/referrals", school, body, ct)
		if r.Status != http.StatusUnsupportedMediaType || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("Content-Type %q: %d %s, want 415 problem+json", ct, r.Status, r.Header.Get("Content-Type"))
			continue
		}
		p := r.JSON(t)
		errs, _ := p["errors"].(map[string]any)
		if p["code"] != "unsupported_media_type" || errs["Content-Type"] != "must be application/json" {
			t.Errorf("Content-Type %q: problem %v", ct, p)
		}
	}
	if after := lastPos(t, e); after != before {
		t.Fatalf("refused bodies appended events: position %d → %d", before, after)
	}
	for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON;charset=UTF-8"} {
		if r := rawDo(t, e, "POST", "/v1/referrals", school, []byte(mustJSON(t, testenv.ValidReferral(testenv.NewNationalID()))), ct, "Idempotency-Key", "k-"+ct); r.Status != http.StatusCreated {
			t.Errorf("Content-Type %q: %d %s", ct, r.Status, r.Body)
		}
	}
	// A command without a body needs no Content-Type.
	committee := e.Token(domain.RoleCommittee, "")
	if r := rawDo(t, e, "POST", "/v1/meetings/m-none/open", committee, nil, "absent"); r.Status == http.StatusUnsupportedMediaType {
		t.Fatalf("a command without a body = 415")
	}
}

// Issue 7, finding 6: a client-chosen X-Request-Id of any size and content
// was echoed and stored unsealed as correlation_id in the immutable log.
// Only [A-Za-z0-9._-]{1,64} is kept; anything else is replaced by a
// generated id, which is what the event records.
func TestRequestIDOnlyOpaqueTokensKept(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"200 KB", strings.Repeat("r", 200<<10), false},
		{"a name and a national ID", "王小明 A123456789", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"a slash", "abc/def", false},
		{"an opaque token", "req-01.AbZ_9", true},
		{"64 characters", strings.Repeat("b", 64), true},
		// A client correlating by the student's ID: each form of it.
		{"a national ID alone", "A123456789", false},
		{"a national ID in lower case", "a123456789", false},
		{"a national ID inside a token", "req-F131104093-2", false},
		{"a resident certificate number", "A800000014", false},
		{"a national ID with a wrong check digit", "A123456788", true},
	}
	for i, c := range cases {
		r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral(testenv.NewNationalID()), "X-Request-Id", c.sent, "Idempotency-Key", "rid-"+strconv.Itoa(i))
		if r.Status != http.StatusCreated {
			t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
		}
		got := r.Header.Get("X-Request-Id")
		switch {
		case c.kept && got != c.sent:
			t.Errorf("%s: X-Request-Id %q, want it kept", c.name, got)
		case !c.kept && (got == c.sent || !generated.MatchString(got)):
			t.Errorf("%s: X-Request-Id %.80q, want a generated id", c.name, got)
		}
		id := r.JSON(t)["id"].(string)
		l, err := e.Store.Load(context.Background(), streamOf(e, id))
		if err != nil || len(l.Events) != 1 {
			t.Fatalf("%s: load: %v (%d events)", c.name, err, len(l.Events))
		}
		if cid := l.Events[0].CorrelationID; cid != got {
			t.Errorf("%s: correlation_id %.80q, want the answered id %q", c.name, cid, got)
		}
	}
	// Nothing of the refused ids reached the stream files.
	for _, needle := range []string{"王小明 A123456789", strings.Repeat("r", 1000), "a123456789", "F131104093", "A800000014"} {
		if found := grepDir(t, e.NATSDir, []byte(needle)); found != "" {
			t.Errorf("a refused X-Request-Id is stored in %s", found)
		}
	}
}

// Issue 7, finding 4: with PostgreSQL down every /v1 route answered 500,
// because the token lookup passed the raw driver error through. A read, a
// command and the token check itself now answer 503 problem+json with
// Retry-After. The test runs its own cluster, which it stops.
func TestPostgresDown503WithRetryAfter(t *testing.T) {
	cluster := ownCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.CreateDatabase(ctx, "cihui"); err != nil {
		t.Fatal(err)
	}
	e := testenv.New(t, testenv.Options{Database: cluster.DSN("cihui")})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, pos := open(t, e, school, testenv.ValidReferral("A123456789"))
	mustStatus(t, e.Do("GET", referralPath(id)+"?min_position="+strconv.FormatUint(pos, 10), school, nil), 200)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	requests := []struct {
		name, method, path, token string
		body                      any
	}{
		{"a read", "GET", referralPath(id), school, nil},
		{"a list", "GET", "/v1/referrals", school, nil},
		{"a command", "POST", "/v1/referrals", school, testenv.ValidReferral("A123456789")},
		{"a command on a case", "POST", referralPath(id) + "/resubmission", school, map[string]any{}},
		{"an unknown token", "GET", "/v1/referrals", "chk_neverissued", nil},
	}
	for _, rq := range requests {
		r := e.Do(rq.method, rq.path, rq.token, rq.body)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s with PostgreSQL down: %d %s: %s", rq.name, r.Status, r.Header.Get("Content-Type"), r.Body)
			continue
		}
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra <= 0 {
			t.Errorf("%s: Retry-After %q", rq.name, r.Header.Get("Retry-After"))
		}
		if p := r.JSON(t); p["code"] != "unavailable" {
			t.Errorf("%s: problem %v", rq.name, p)
		}
	}
	if r := e.Do("GET", "/readyz", "", nil); r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz with PostgreSQL down: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
}

// Issue 7, finding 4, for NATS: with the NATS server gone a command
// answers 503 problem+json with Retry-After, at once.
func TestNATSDown503WithRetryAfter(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, _ := open(t, e, school, testenv.ValidReferral("A123456789"))
	e.Server.Shutdown()
	e.Server.WaitForShutdown()
	deadline := time.Now().Add(5 * time.Second)
	for e.NC.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, path := range []string{"/v1/referrals", referralPath(id) + "/resubmission"} {
		start := time.Now()
		body := any(testenv.ValidReferral("A123456789"))
		if path != "/v1/referrals" {
			body = map[string]any{}
		}
		r := e.Do("POST", path, school, body)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("POST %s with NATS down: %d Retry-After %q: %s", path, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("POST %s took %s to answer", path, took)
		}
	}
}

// Issue 7, finding 4: a database call that hangs ends at the request's
// deadline as 503 with Retry-After, not as a connection held open: here
// the token table is locked by another session.
func TestHangingDatabaseCallEndsAs503(t *testing.T) {
	const deadline = 500 * time.Millisecond
	e := testenv.New(t, testenv.Options{Limits: httpapi.Limits{RequestTimeout: deadline}})
	school := e.Token(domain.RoleOriginSchool, "034501")
	tx, err := e.DB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := e.Do("GET", "/v1/referrals", school, nil)
	took := time.Since(start)
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("a read behind a locked token table: %d Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	if took < deadline*3/4 || took > 10*deadline {
		t.Fatalf("answered after %s, want about the request deadline of %s", took, deadline)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.Do("GET", "/v1/referrals", school, nil), http.StatusOK)
}

// ownCluster starts a PostgreSQL cluster for this test alone, stopped and
// removed when it ends.
func ownCluster(t *testing.T) *pgcluster.Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "cihui-pgdown-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user must reach it
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rawDo sends body with Content-Type ct ("absent": none at all) and
// further headers as name, value pairs.
func rawDo(t *testing.T, e *testenv.Env, method, path, token string, body []byte, ct string, headers ...string) testenv.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "absent" {
		req.Header["Content-Type"] = []string{ct}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// grepDir returns the first file under dir that holds needle, or "".
func grepDir(t *testing.T, dir string, needle []byte) string {
	t.Helper()
	found := ""
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			found = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
