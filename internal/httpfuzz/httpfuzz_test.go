package httpfuzz_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/httpfuzz"
	"cihui/internal/pgtest"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestHTTPFuzz sends valid and mutated requests to every route and method
// of /openapi.json with every role's token (issue 7, "Fuzzing that keeps
// running") to the whole system (embedded NATS, PostgreSQL, API,
// projector), and asserts: no 5xx, no panic, every error
// application/problem+json, and afterwards the projector at the stream's
// last position with nothing quarantined.
//
// Budget: 1,500 requests or 20 s by default; CIHUI_HTTPFUZZ_DURATION=10m
// runs for that long instead; CIHUI_HTTPFUZZ_SEED changes the (otherwise
// fixed) sequence; CIHUI_HTTPFUZZ=off skips the test. The figures are
// printed as one JSON line starting with "httpfuzz:".
func TestHTTPFuzz(t *testing.T) {
	if os.Getenv("CIHUI_HTTPFUZZ") == "off" {
		t.Skip("CIHUI_HTTPFUZZ=off")
	}
	requests, duration := 1500, 20*time.Second
	if s := os.Getenv("CIHUI_HTTPFUZZ_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("CIHUI_HTTPFUZZ_DURATION: %v", err)
		}
		requests, duration = 0, d
		t.Logf("running for %s", d)
	}
	seed := uint64(1)
	if s := os.Getenv("CIHUI_HTTPFUZZ_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CIHUI_HTTPFUZZ_SEED: %v", err)
		}
	}

	panics := watchPanics(t) // before the API exists: its logger writes to os.Stdout
	e := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	tokens := map[string]string{
		"origin_school": e.Token(domain.RoleOriginSchool, "034501"),
		"other_school":  e.Token(domain.RoleOriginSchool, "034502"),
		"social_worker": e.Token(domain.RoleSocialWorker, ""),
		"committee":     e.Token(domain.RoleCommittee, ""),
		"bureau":        e.Token(domain.RoleBureau, ""),
		"admin":         e.Token(domain.RoleAdmin, ""),
	}

	// Something to act on: cases at several stages, and a meeting.
	referrals := []string{e.RecommendedCase("034501", domain.OutcomeRecommend), e.RecommendedCase("034501", "discuss")}
	for _, nid := range []string{"A123456789", "B298765438"} {
		r := e.Do("POST", "/v1/referrals", tokens["origin_school"], testenv.ValidReferral(nid))
		if r.Status != http.StatusCreated {
			t.Fatalf("seeding a referral: %d %s", r.Status, r.Body)
		}
		referrals = append(referrals, r.JSON(t)["id"].(string))
	}
	r := e.Do("POST", "/v1/meetings", tokens["committee"], map[string]any{"academic_year": 114, "kind": "march", "date": "2026-03-23"})
	if r.Status != http.StatusCreated {
		t.Fatalf("seeding a meeting: %d %s", r.Status, r.Body)
	}
	meetings := []string{r.JSON(t)["id"].(string)}

	spec := loadSpec(t, e)
	rep, err := httpfuzz.Run(ctx, httpfuzz.Config{
		BaseURL: e.HTTP.URL, Spec: spec, Tokens: tokens, Seed: seed, Requests: requests, Duration: duration,
		PathValues: func(path, param string) []string {
			switch {
			case param == "id" && strings.HasPrefix(path, "/v1/meetings/"):
				return meetings
			case param == "id":
				return referrals
			case param == "year":
				return []string{"2026"}
			}
			return nil
		},
		CSV: func() []byte { return officeCSV(2026) },
	})
	if err != nil {
		t.Fatal(err)
	}

	// The projector must reach the end of the stream, whatever was sent.
	var last, checkpoint uint64
	caughtUp := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if last, err = e.Store.LastPosition(ctx); err != nil {
			t.Fatal(err)
		}
		if checkpoint, err = projections.Checkpoint(ctx, e.DB); err != nil {
			t.Fatal(err)
		}
		if caughtUp = checkpoint == last; caughtUp {
			break
		}
	}
	quarantined := quarantineCount(t, e)
	rep.Panics = int(panics.count())

	figures, err := json.Marshal(struct {
		*httpfuzz.Report
		StreamLast     uint64 `json:"stream_last"`
		ReadModels     uint64 `json:"read_model_position"`
		Quarantined    int    `json:"quarantined"`
		QuarantineNote string `json:"quarantine_note,omitempty"`
	}{rep, last, checkpoint, max(quarantined, 0), map[bool]string{true: "no projection_quarantine table"}[quarantined < 0]})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("httpfuzz: " + string(figures))

	if rep.Requests < 100 && requests > 0 {
		t.Errorf("only %d requests sent", rep.Requests)
	}
	for _, f := range rep.ServerError {
		t.Errorf("5xx: %s %s answered %d ×%d, e.g. %s", f.Method, f.Route, f.Status, f.Count, strings.Join(f.Examples, "; "))
	}
	for _, f := range rep.NotProblem {
		t.Errorf("not problem+json: %s %s answered %d ×%d, e.g. %s", f.Method, f.Route, f.Status, f.Count, strings.Join(f.Examples, "; "))
	}
	if rep.Transport > 0 {
		t.Errorf("%d requests got no answer", rep.Transport)
	}
	if rep.Panics > 0 {
		t.Errorf("%d panics recovered by the server", rep.Panics)
	}
	if !caughtUp {
		t.Errorf("the projector is at %d, the stream at %d: the read models are stuck", checkpoint, last)
	}
	if quarantined > 0 {
		t.Errorf("%d events quarantined by the projector", quarantined)
	}
}

// loadSpec fetches and parses the API's own contract.
func loadSpec(t *testing.T, e *testenv.Env) *openapi3.T {
	t.Helper()
	r := e.Do("GET", "/openapi.json", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d", r.Status)
	}
	spec, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("parsing /openapi.json: %v", err)
	}
	return spec
}

// quarantineCount returns the number of quarantined events, or -1 if the
// projection_quarantine table does not exist (a build without it).
func quarantineCount(t *testing.T, e *testenv.Env) int {
	t.Helper()
	var exists bool
	if err := e.DB.Get(&exists, `SELECT to_regclass('projection_quarantine') IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if !exists {
		t.Log("no projection_quarantine table: quarantine not checked")
		return -1
	}
	var n int
	if err := e.DB.Get(&n, `SELECT count(*) FROM projection_quarantine`); err != nil {
		t.Fatal(err)
	}
	return n
}

// officeCSV returns a valid office calendar of year in the published
// layout (UTF-8 with a BOM), weekends off and New Year's Day.
func officeCSV(year int) []byte {
	const weekdays = "日一二三四五六"
	var b strings.Builder
	b.WriteString("\uFEFF西元日期,星期,是否放假,備註\r\n")
	for d := calendar.NewDate(year, 1, 1); d.Year() == year; d = d.AddDays(1) {
		w := int(d.Weekday())
		flag := "0"
		if w == 0 || w == 6 || d.Month() == 1 && d.Day() == 1 {
			flag = "2"
		}
		fmt.Fprintf(&b, "%04d%02d%02d,%s,%s,\r\n", year, int(d.Month()), d.Day(), weekdays[3*w:3*w+3], flag)
	}
	return []byte(b.String())
}

// panicWatch counts the panics the server's recover middleware reports.
type panicWatch struct {
	n    atomic.Int64
	w    *os.File
	sync chan struct{}
}

// count returns the panics reported so far, after everything written
// before the call has been read.
func (p *panicWatch) count() int64 {
	fmt.Fprintln(p.w, "httpfuzz-sync")
	<-p.sync
	return p.n.Load()
}

// watchPanics routes os.Stdout through a pipe that counts the lines of
// echo's recover middleware ("[PANIC RECOVER]", written by echo's logger
// to the os.Stdout of when the server was made) and passes everything on.
func watchPanics(t *testing.T) *panicWatch {
	t.Helper()
	orig := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &panicWatch{w: w, sync: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			switch {
			case line == "httpfuzz-sync\n":
				p.sync <- struct{}{}
				continue
			case strings.Contains(line, "PANIC RECOVER"), strings.HasPrefix(line, "panic:"):
				p.n.Add(1)
			}
			_, _ = io.WriteString(orig, line)
			if err != nil {
				return
			}
		}
	}()
	os.Stdout = w
	t.Cleanup(func() {
		os.Stdout = orig
		w.Close()
		<-done
		r.Close()
	})
	return p
}

// TestWatchPanicsCounts proves the panic check can fail: a line of echo's
// recover middleware written to os.Stdout is counted, other lines are not.
func TestWatchPanicsCounts(t *testing.T) {
	p := watchPanics(t)
	fmt.Println("an ordinary line")
	fmt.Fprintf(os.Stdout, "{\"time\":\"x\",\"level\":\"-\",\"prefix\":\"echo\",\"message\":\"[PANIC RECOVER] boom goroutine 1 [running]:\"}\n")
	if n := p.count(); n != 1 {
		t.Fatalf("counted %d panics, want 1", n)
	}
}
