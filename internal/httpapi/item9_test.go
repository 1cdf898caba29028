package httpapi_test

import (
	"fmt"
	"testing"

	"cihui/internal/testenv"
)

// R-DOC-1 item 9: a mid-year application's health-check copy without the
// accident-insurance copy is refused as conforming; with it, it conforms.
// The case detail shows the total page count of the submitted items.
func TestR_DOC_1_HTTPItem9AndTotalPages(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	a := newActors(e)
	id, _ := open(t, e, a.school, testenv.ValidReferral("A123456789"))
	path := fmt.Sprintf("/v1/referrals/%s/documents/9", id)
	mustStatus(t, e.Do("PUT", path, a.school, map[string]any{"pages": 3}), 200)
	if r := e.Do("PUT", path, a.sw, map[string]any{"conforms": true}); r.Status != 422 || r.JSON(t)["rule"] != "R-DOC-1" {
		t.Fatalf("item 9 without the accident-insurance copy: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.Do("PUT", path, a.school, map[string]any{"pages": 4, "with_accident_insurance": true}), 200)
	mustStatus(t, e.Do("PUT", path, a.sw, map[string]any{"conforms": true}), 200)
	mustStatus(t, e.Do("PUT", fmt.Sprintf("/v1/referrals/%s/documents/1", id), a.school, map[string]any{"pages": 2}), 200)
	if got := get(t, e, a.sw, id); got["document_pages"] != float64(6) {
		t.Fatalf("document_pages %v, want 6 (items 1 and 9)", got["document_pages"])
	}
}
