package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// A list page is cached for the read-model position it was read at
// (issue 13) and shared by the callers who ask for it: a social worker
// sees the checklist notes, the origin school of the same page never
// does, also when both read at once (run with -race); and a write is
// in the next read that asks for its position (read-your-writes).
func TestSharedListPageKeepsEachCallersView(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	worker := e.Token(domain.RoleSocialWorker, "")
	const note = "檢核備註：缺頁"
	_, pos := checkedWithNote(t, e, school, worker, note)
	// Both scopes list the case; the school's page and the worker's are
	// different pages, each shared by its concurrent readers.
	path := fmt.Sprintf("/v1/referrals?limit=50&min_position=%d", pos)
	if r := e.Do("GET", path, worker, nil); r.Status != http.StatusOK { // the page cached
		t.Fatalf("GET = %d: %s", r.Status, r.Body)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, want := school, false
			if i%2 == 1 {
				tok, want = worker, true
			}
			r := e.Do("GET", path, tok, nil)
			if r.Status != http.StatusOK {
				errs <- fmt.Sprintf("GET = %d: %s", r.Status, r.Body)
				return
			}
			if got := strings.Contains(string(r.Body), note); got != want {
				errs <- fmt.Sprintf("social worker %v: note shown %v", want, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Another case, then the list at its position shows it.
	id2, pos2 := open(t, e, school, testenv.ValidReferral(testenv.NewNationalID()))
	r := e.Do("GET", fmt.Sprintf("/v1/referrals?limit=50&min_position=%d", pos2), school, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), id2) {
		t.Fatalf("the list at the write's position lacks it: %d %s", r.Status, r.Body)
	}
}

// checkedWithNote files a referral, submits its item 1 and has the social
// worker find it not conforming with note; it returns the case and the
// check's position.
func checkedWithNote(t *testing.T, e *testenv.Env, school, worker, note string) (id string, pos uint64) {
	t.Helper()
	id, _ = open(t, e, school, testenv.ValidReferral(testenv.NewNationalID()))
	if r := e.Do("PUT", referralPath(id)+"/documents/1", school, map[string]any{"pages": 2}); r.Status != http.StatusOK {
		t.Fatalf("submit = %d: %s", r.Status, r.Body)
	}
	r := e.Do("PUT", referralPath(id)+"/documents/1", worker, map[string]any{"conforms": false, "note": note})
	if r.Status != http.StatusOK {
		t.Fatalf("check = %d: %s", r.Status, r.Body)
	}
	var res struct {
		Position uint64 `json:"position"`
	}
	r.Decode(t, &res)
	return id, res.Position
}
