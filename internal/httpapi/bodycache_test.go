package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

// A list body is kept for the read models' mark and sent again to the
// same caller (issue 13, bodycache.go): each read still writes its own
// access record; another caller never gets it (the school's page of the
// same query lacks the worker's note); a write moves the mark, and the
// next read at its position shows it; a rebuild's switch moves the
// generation at the same position, and the body is built again.
func TestListBodyKeptForTheSameCallerUntilTheReadModelsMove(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	worker := e.Token(domain.RoleSocialWorker, "")
	admin := e.Token(domain.RoleAdmin, "")
	const note = "檢核備註：第二頁模糊"
	id, pos := checkedWithNote(t, e, school, worker, note) // readcache_test.go
	path := fmt.Sprintf("/v1/referrals?limit=50&min_position=%d", pos)

	before := len(accessLog(t, e, admin, "case="+id))
	first := mustStatus(t, e.Do("GET", path, worker, nil), http.StatusOK).Body
	second := mustStatus(t, e.Do("GET", path, worker, nil), http.StatusOK).Body
	if !bytes.Equal(first, second) {
		t.Errorf("the same caller at the same mark got different bodies:\n%s\n%s", first, second)
	}
	if !strings.Contains(string(first), note) {
		t.Fatalf("the worker's page lacks the checklist note: %s", first)
	}
	if got := mustStatus(t, e.Do("GET", path, school, nil), http.StatusOK).Body; strings.Contains(string(got), note) {
		t.Errorf("the school got the worker's body (the note): %s", got)
	}
	if n := len(accessLog(t, e, admin, "case="+id)) - before; n != 3 {
		t.Errorf("%d access records for three reads of the case, want 3", n)
	}

	// A write: the next read at its position shows it.
	r := e.Do("PUT", referralPath(id)+"/documents/1", worker, map[string]any{"conforms": true})
	if r.Status != http.StatusOK {
		t.Fatalf("check again = %d: %s", r.Status, r.Body)
	}
	var res struct {
		Position uint64 `json:"position"`
	}
	r.Decode(t, &res)
	after := mustStatus(t, e.Do("GET", fmt.Sprintf("/v1/referrals?limit=50&min_position=%d", res.Position), worker, nil), http.StatusOK).Body
	if bytes.Equal(after, first) || strings.Contains(string(after), note) {
		t.Errorf("the list at the write's position is the body kept before it: %s", after)
	}

	// A rebuild's switch at the same position: the generation moves. The
	// tables change behind the API's back, as a switch to rebuilt ones of
	// a new schema could: the body kept is served until the notice.
	kept := mustStatus(t, e.Do("GET", path, worker, nil), http.StatusOK).Body
	if _, err := e.DB.Exec(`UPDATE cases SET grade = 9 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if got := mustStatus(t, e.Do("GET", path, worker, nil), http.StatusOK).Body; !bytes.Equal(got, kept) {
		t.Fatalf("the body was built again at the same mark:\n%s\n%s", got, kept)
	}
	mark := e.Waiter.Mark()
	if _, err := e.DB.Exec(`SELECT pg_notify($1, $2)`, projections.NotifyChannel, projections.SwitchedNotice(mark.Pos)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.Waiter.Mark().Gen == mark.Gen {
		if time.Now().After(deadline) {
			t.Fatal("the switch's notice did not move the generation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.Waiter.Mark().Pos; got != mark.Pos {
		t.Errorf("position %d after the switch's notice, want %d", got, mark.Pos)
	}
	if again := mustStatus(t, e.Do("GET", path, worker, nil), http.StatusOK).Body; bytes.Equal(again, kept) || !strings.Contains(string(again), `"grade":9`) {
		t.Errorf("after the switch the body kept before it was served: %s", again)
	}
}
