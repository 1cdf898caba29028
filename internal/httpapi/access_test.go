package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/accesslog"
	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// accessRecords returns the number of records in the CIHUI_ACCESS stream
// (a batch message carries several).
func accessRecords(t *testing.T, e *testenv.Env) uint64 {
	t.Helper()
	return uint64(len(streamRecords(t, e)))
}

// streamRecords decodes every message of the CIHUI_ACCESS stream and
// returns its records in order.
func streamRecords(t *testing.T, e *testenv.Env) []accesslog.Record {
	t.Helper()
	ctx := context.Background()
	st, err := e.Access.JetStream().Stream(ctx, e.Access.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []accesslog.Record
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
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
				t.Fatalf("record %d of message %d: %v", i, seq, errs[i])
			}
			out = append(out, r)
		}
	}
	return out
}

// Group commit (issue 13): reads answered at the same time share stream
// messages, and every read answered with personal data has its record
// (by its request id) in the stream when the answer arrives.
func TestAccessRecord_EveryAnsweredReadIsInTheStream(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	tok := e.Token(domain.RoleOriginSchool, "034501")
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	mustStatus(t, e.Do("GET", referralPath(id)+fmt.Sprintf("?min_position=%d", lastPos(t, e)), tok, nil), 200)
	before := accessRecords(t, e)
	const n = 64
	var wg sync.WaitGroup
	answered := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rid := fmt.Sprintf("req-group-%d", i)
			req, _ := http.NewRequest("GET", e.HTTP.URL+referralPath(id), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-Request-ID", rid)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				answered <- rid
			}
		}()
	}
	wg.Wait()
	close(answered)
	inStream := map[string]bool{}
	for _, r := range streamRecords(t, e) {
		inStream[r.RequestID] = true
	}
	got := 0
	for rid := range answered {
		got++
		if !inStream[rid] {
			t.Errorf("read %s answered without its access record in the stream", rid)
		}
	}
	if got != n {
		t.Errorf("%d of %d reads answered", got, n)
	}
	if after := accessRecords(t, e); after-before != n {
		t.Errorf("%d new records, want %d", after-before, n)
	}
}

// accessLog queries GET /v1/access-log once the access-log projector has
// caught up with the stream.
func accessLog(t *testing.T, e *testenv.Env, admin, query string) []map[string]any {
	t.Helper()
	want := accessRecords(t, e)
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := mustStatus(t, e.Do("GET", "/v1/access-log?limit=1000", admin, nil), 200).JSON(t)["items"].([]any)
		if uint64(len(all)) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("access log has %d rows, the stream %d records", len(all), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var out []map[string]any
	for _, it := range mustStatus(t, e.Do("GET", "/v1/access-log?"+query, admin, nil), 200).JSON(t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func cases(rec map[string]any) []string {
	var out []string
	for _, c := range rec["cases"].([]any) {
		out = append(out, c.(string))
	}
	return out
}

// Finding 6 (issue 8): every role's read of a student's personal data is
// recorded before the data is sent — who (token id, role, school or
// branch), which cases, which route, when, the request id — and reads that
// carry no personal data are not.
func TestAccessLog_EachRolesReadsOfPersonalDataAreRecorded(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school, schoolID := e.TokenWithID(domain.RoleOriginSchool, "034501")
	sw, swID := e.TokenWithID(domain.RoleSocialWorker, "")
	committee, committeeID := e.TokenWithID(domain.RoleCommittee, "")
	bureau, bureauID := e.TokenWithID(domain.RoleBureau, "")
	admin, adminID := e.TokenWithID(domain.RoleAdmin, "")
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	other := e.RecommendedCase("034501", domain.OutcomeRecommend)
	pos := lastPos(t, e)
	q := fmt.Sprintf("?min_position=%d", pos)

	type read struct {
		tokenID, role, route, requestID string
		cases                           []string
	}
	var reads []read
	do := func(token, tokenID, role, route, path string, ids ...string) testenv.Response {
		t.Helper()
		r := mustStatus(t, e.Do("GET", path, token, nil), 200)
		if ids != nil {
			reads = append(reads, read{tokenID, role, route, r.Header.Get("X-Request-Id"), ids})
		}
		return r
	}
	do(school, schoolID, "origin_school", "/v1/referrals/:id", referralPath(id)+q, id)
	do(sw, swID, "social_worker", "/v1/referrals/:id", referralPath(id)+q, id)
	do(sw, swID, "social_worker", "/v1/referrals", "/v1/referrals"+q, id, other)
	do(committee, committeeID, "committee", "/v1/referrals/:id", referralPath(id)+q, id)
	meeting := scheduleAndOpen(t, e, committee, "march", "2026-03-23")
	mq := fmt.Sprintf("?min_position=%d", lastPos(t, e)) // the meeting in the read models
	do(committee, committeeID, "committee", "/v1/meetings/:id/docket", "/v1/meetings/"+meeting+"/docket"+mq, id, other)
	do(committee, committeeID, "committee", "/v1/meetings/:id/docket", "/v1/meetings/"+meeting+"/docket?format=html", id, other)
	do(bureau, bureauID, "bureau", "/v1/referrals/:id", referralPath(other)+q, other)
	do(bureau, bureauID, "bureau", "/v1/filings/admitted", "/v1/filings/admitted?academic_year=114") // nobody admitted: no one's data
	ex := do(admin, adminID, "admin", "/v1/referrals/:id/export", referralPath(id)+"/export"+q, id).JSON(t)
	if ex["student"].(map[string]any)["name"] != "測試" || len(ex["timeline"].([]any)) == 0 || ex["visit_log"] == nil {
		t.Fatalf("export lacks the student, the timeline or the visit log: %v", ex)
	}
	// Reads without personal data: not recorded.
	do(sw, swID, "", "", "/v1/capacity")
	do(school, schoolID, "", "", referralPath(id)+"/events"+q)
	do(committee, committeeID, "", "", "/v1/meetings")
	do(sw, swID, "", "", "/v1/home-visits/queue")
	do(sw, swID, "", "", "/v1/referrals?status=enrolled") // an empty page names no one

	if n := accessRecords(t, e); n != uint64(len(reads)) {
		t.Fatalf("%d access records, want %d (one per read of personal data)", n, len(reads))
	}
	recs := accessLog(t, e, admin, "limit=1000")
	for i, want := range reads {
		got := recs[i]
		// Issue 14: the record names the person (by id) the token is issued to.
		if got["actor_person"] != e.PersonOf(want.tokenID) || got["actor_person"] == "" || got["actor_role"] != want.role || got["route"] != want.route ||
			got["request_id"] != want.requestID || !sameSet(cases(got), want.cases) {
			t.Errorf("record %d: %v, want the person of token %s, role %s route %s request %s cases %v", i, got, want.tokenID, want.role, want.route, want.requestID, want.cases)
		}
		if got["method"] != "GET" || got["at"] == nil {
			t.Errorf("record %d has no method or time: %v", i, got)
		}
	}
	if recs[0]["actor_school"] != "034501" || recs[1]["actor_branch"] != e.Branch.Code {
		t.Errorf("school or branch missing: %v / %v", recs[0], recs[1])
	}

	// Filters: by case, by actor, by time.
	if got := accessLog(t, e, admin, "case="+other); len(got) != 4 {
		t.Errorf("case filter: %d records of %s, want 4 (list, two dockets, bureau detail)", len(got), other)
	}
	if got := accessLog(t, e, admin, "actor="+e.PersonOf(swID)); len(got) != 2 {
		t.Errorf("actor filter: %d records, want 2", len(got))
	}
	if got := accessLog(t, e, admin, "from="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(got) != 0 {
		t.Errorf("from an hour ahead: %d records", len(got))
	}
	if got := accessLog(t, e, admin, "case="+id+"&limit=2"); len(got) != 2 {
		t.Errorf("limit 2: %d records", len(got))
	}
	// Paging with the cursor walks every record once.
	seen, cursor := 0, ""
	for {
		page := mustStatus(t, e.Do("GET", "/v1/access-log?limit=3&cursor="+cursor, admin, nil), 200).JSON(t)
		seen += len(page["items"].([]any))
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != len(reads) {
		t.Errorf("paging saw %d records, want %d", seen, len(reads))
	}
	// The access log holds no personal data.
	raw := e.Do("GET", "/v1/access-log?limit=1000", admin, nil).Body
	if strings.Contains(string(raw), "測試") || strings.Contains(string(raw), "A123456789") {
		t.Error("the access log holds personal data")
	}
}

func TestAccessLog_QueryIsValidatedAndForAdminsOnly(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	for _, q := range []string{"case=a%20b", "actor=" + strings.Repeat("x", 65), "from=yesterday", "to=2026-13-01",
		"from=2026-03-02&to=2026-03-01", "limit=0", "limit=1001", "limit=x", "cursor=-1"} {
		r := e.Do("GET", "/v1/access-log?"+q, a.admin, nil)
		if r.Status != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	mustStatus(t, e.Do("GET", "/v1/access-log?from=2026-03-01&to=2026-03-02T00:00:00Z", a.admin, nil), 200)
	for _, tok := range []string{a.school, a.sw, a.committee, a.bureau} {
		mustStatus(t, e.Do("GET", "/v1/access-log", tok, nil), http.StatusForbidden)
		mustStatus(t, e.Do("GET", "/v1/retention/due", tok, nil), http.StatusForbidden)
		mustStatus(t, e.Do("GET", referralPath("rabc")+"/export", tok, nil), http.StatusForbidden)
	}
}

// Finding 6: if the access record cannot be written, the read fails with
// 503 and sends no data. The failures are realistic ones that leave the
// event stream CIHUI untouched: the access store is full (the stream's
// limit reached, new messages refused). (Removing the stream is no longer
// a failure to test: no NATS user may delete a stream.)
func TestAccessLog_ReadFailsClosedWhenTheAccessStoreIsDown(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	meeting := scheduleAndOpen(t, e, a.committee, "march", "2026-03-23")
	path := fmt.Sprintf("%s?min_position=%d", referralPath(id), lastPos(t, e))
	docket := fmt.Sprintf("/v1/meetings/%s/docket?min_position=%d", meeting, lastPos(t, e))
	mustStatus(t, e.Do("GET", path, a.sw, nil), 200)
	if r := mustStatus(t, e.Do("GET", docket, a.committee, nil), 200); !strings.Contains(string(r.Body), id) {
		t.Fatalf("the docket does not list the case: %s", r.Body)
	}

	ctx := context.Background()
	j := e.Access.JetStream()
	st, err := j.Stream(ctx, e.Access.StreamName())
	if err != nil {
		t.Fatal(err)
	}
	full := st.CachedInfo().Config
	full.MaxMsgs, full.Discard = 1, js.DiscardNew
	if _, err := j.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	failsClosed := func(what string) {
		t.Helper()
		// The docket too, as JSON and as a page.
		for _, read := range []struct{ path, token string }{
			{path, a.sw}, {"/v1/referrals", a.sw}, {docket, a.committee}, {docket + "&format=html", a.committee},
		} {
			r := e.Do("GET", read.path, read.token, nil)
			if r.Status != http.StatusServiceUnavailable || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%s: GET %s: %d %s", what, read.path, r.Status, r.Body)
			}
			body := r.JSON(t)
			if strings.Contains(string(r.Body), "測試") || strings.Contains(string(r.Body), id) || body["student"] != nil ||
				body["items"] != nil || body["grounds"] != nil || body["stage"] != nil || body["cases"] != nil {
				t.Fatalf("%s: the refused read sent data: %s", what, r.Body)
			}
		}
		// The event stream is untouched: commands still work.
		mustStatus(t, e.Do("POST", "/v1/meetings", a.committee, map[string]any{"academic_year": 114, "kind": "extra", "date": "2026-03-30"}), http.StatusCreated)
	}
	failsClosed("access store full")

	// Restored, reads are served and recorded again.
	restored := full
	restored.MaxMsgs, restored.Discard = -1, js.DiscardOld
	if _, err := j.UpdateStream(ctx, restored); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, e.Do("GET", path, a.sw, nil), 200)
	if n := accessRecords(t, e); n != 3 {
		t.Fatalf("%d records after the restore, want 3 (the two reads before the failure and this one)", n)
	}
}

// One malformed message in the access stream (not a record, or a record
// with free text where an id belongs) is skipped: the records after it are
// projected all the same.
func TestAccessLog_BadRecordDoesNotStopTheProjection(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	ctx := context.Background()
	j := e.Access.JetStream()
	for _, bad := range []string{`not json`, `{"id":"x","method":"GET","route":"/v1/referrals/:id","actor":{"role":"admin"},"cases":["王小明"]}`} {
		if _, err := j.Publish(ctx, "cihui_access.admin", []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	id := e.RecommendedCase("034501", domain.OutcomeRecommend)
	mustStatus(t, e.Do("GET", fmt.Sprintf("%s?min_position=%d", referralPath(id), lastPos(t, e)), a.sw, nil), 200)
	deadline := time.Now().Add(10 * time.Second)
	for {
		items := mustStatus(t, e.Do("GET", "/v1/access-log", a.admin, nil), 200).JSON(t)["items"].([]any)
		if len(items) == 1 && cases(items[0].(map[string]any))[0] == id {
			break
		}
		if len(items) > 1 || time.Now().After(deadline) {
			t.Fatalf("access log: %v, want the one valid record", items)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
