package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// Issue 8: lists that show names open them per row from the sealed read
// model, for the roles that see personal data only; an erased student's
// row shows as erased while the others still open.
func TestListOpensNamesPerRowAndShowsErasedAsErased(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	sw := e.Token(domain.RoleSocialWorker, "")
	committee := e.Token(domain.RoleCommittee, "")
	admin := e.Token(domain.RoleAdmin, "")
	ids := map[string]string{} // case id → national id
	var pos uint64
	for _, nid := range []string{"A123456789", "A800000014", "B123456780"} {
		body := testenv.ValidReferral(nid)
		body["student"].(map[string]any)["name"] = "名" + nid
		id, p := open(t, e, school, body)
		ids[id], pos = nid, p
	}
	list := func(token string) map[string]any {
		t.Helper()
		r := e.Do("GET", fmt.Sprintf("/v1/referrals?min_position=%d", pos), token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		out := map[string]any{}
		for _, it := range r.JSON(t)["items"].([]any) {
			m := it.(map[string]any)
			out[m["id"].(string)] = m["student"]
		}
		return out
	}
	for _, token := range []string{school, sw} {
		got := list(token)
		for id, nid := range ids {
			st, _ := got[id].(map[string]any)
			if st == nil || st["name"] != "名"+nid || st["national_id"] != nid {
				t.Fatalf("row %s: student %v, want the opened %s", id, got[id], nid)
			}
		}
	}
	for id, st := range list(committee) {
		if st != nil {
			t.Fatalf("committee sees row %s's student: %v", id, st)
		}
	}
	var erased string
	for id := range ids {
		erased = id
		break
	}
	r := e.Do("POST", referralPath(erased)+"/erasure", admin, map[string]any{"reason": "data_subject_request"})
	if r.Status != http.StatusOK {
		t.Fatalf("erasure: %d %s", r.Status, r.Body)
	}
	pos = uint64(r.JSON(t)["position"].(float64))
	got := list(sw)
	for id := range ids {
		if (got[id] == nil) != (id == erased) {
			t.Fatalf("after erasing %s: row %s student %v", erased, id, got[id])
		}
	}
}

// A person whose key was destroyed without the erasure reaching the read
// models (the append after the key's destruction failed) shows as erased:
// the sealed row no longer opens.
func TestDestroyedKeyShowsErasedBeforeProjection(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	school := e.Token(domain.RoleOriginSchool, "034501")
	id, pos := open(t, e, school, testenv.ValidReferral("A123456789"))
	path := fmt.Sprintf("%s?min_position=%d", referralPath(id), pos)
	if st := e.Do("GET", path, school, nil).JSON(t)["student"]; st == nil {
		t.Fatal("the student should open before the erasure")
	}
	var key string
	if err := e.DB.Get(&key, `SELECT person_key FROM cases WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := e.Sealer.Erase(t.Context(), key); err != nil { // no event appended
		t.Fatal(err)
	}
	var rows int
	if err := e.DB.Get(&rows, `SELECT count(*) FROM case_personal WHERE case_id = $1`, id); err != nil || rows != 1 {
		t.Fatalf("the sealed row should still be there: %d %v", rows, err)
	}
	if st := e.Do("GET", path, school, nil).JSON(t)["student"]; st != nil {
		t.Fatalf("a destroyed key still opens: %v", st)
	}
}
