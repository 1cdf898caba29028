package httpapi_test

import (
	"fmt"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// GET /v1/letters lists in one query the letters a school received about
// its own students, newest first, page by page; the branch sees its
// cases' letters; another school's never appear.
func TestLettersListScopedNewestFirst(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	other := e.Token(domain.RoleOriginSchool, "034502")
	first := returned(t, e, a)
	second := returned(t, e, a)
	id, _ := open(t, e, other, testenv.ValidReferral(testenv.NewNationalID()))
	mustStatus(t, e.Do("PUT", "/v1/referrals/"+id+"/documents/1", other, map[string]any{"pages": 1}), 200)
	mustStatus(t, e.Do("POST", "/v1/referrals/"+id+"/return", a.sw, map[string]any{"note": "缺件"}), 200)
	min := fmt.Sprintf("min_position=%d", lastPosition(t, e))

	cases := func(token, query string) ([]string, string) {
		t.Helper()
		got := mustStatus(t, e.Do("GET", "/v1/letters?"+min+query, token, nil), 200).JSON(t)
		var ids []string
		for _, it := range got["items"].([]any) {
			l := it.(map[string]any)
			ids = append(ids, l["case_id"].(string))
			if l["student_alias"] == "" || l["subject"] == "" {
				t.Errorf("a letter without its alias or subject: %v", l)
			}
		}
		next, _ := got["next_cursor"].(string)
		return ids, next
	}
	if ids, _ := cases(a.school, ""); fmt.Sprint(ids) != fmt.Sprint([]string{second, first}) {
		t.Fatalf("the school's letters: %v, want its two cases newest first %v", ids, []string{second, first})
	}
	if ids, _ := cases(other, ""); fmt.Sprint(ids) != fmt.Sprint([]string{id}) {
		t.Fatalf("the other school's letters: %v, want only its own case %s", ids, id)
	}
	if ids, _ := cases(a.sw, ""); len(ids) != 3 {
		t.Fatalf("the branch's letters: %v, want 3", ids)
	}
	page1, next := cases(a.school, "&limit=1")
	if fmt.Sprint(page1) != fmt.Sprint([]string{second}) || next == "" {
		t.Fatalf("first page of 1: %v next %q", page1, next)
	}
	page2, _ := cases(a.school, "&limit=1&cursor="+next)
	if fmt.Sprint(page2) != fmt.Sprint([]string{first}) {
		t.Fatalf("second page of 1: %v, want %s", page2, first)
	}
	mustStatus(t, e.Do("GET", "/v1/letters?cursor=abc", a.school, nil), 400)
	mustStatus(t, e.Do("GET", "/v1/letters?limit=0", a.school, nil), 400)
	mustStatus(t, e.Do("GET", "/v1/letters", a.bureau, nil), 403)
}
