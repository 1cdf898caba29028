package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Response is an HTTP response read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (%d): %s", r.Status, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %d response: %v: %s", r.Status, err, r.Body)
	}
}

// Do sends a request to the API. body may be nil, a []byte/string sent
// as is, or a value encoded as JSON. headers alternate name, value.
func (e *Env) Do(method, path, token string, body any, headers ...string) Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// ValidReferral returns a valid mid-year direct referral body (made-up
// data), with the given national ID.
func ValidReferral(nationalID string) map[string]any {
	return map[string]any{
		"route":   "mid_year",
		"channel": "direct",
		"grade":   8,
		"student": map[string]any{"name": "測試學生", "sex": "F", "birth_date": "2012-05-01", "national_id": nationalID},
		"guardian": map[string]any{
			"name": "測試家長", "relationship": "母",
		},
		"family": map[string]any{
			"housing": "租賃", "economy": "清寒", "income_sources": []string{"母"},
			"living_types": []string{"離異依母"}, "vulnerable_or_child_protection": true,
		},
		"grounds":          []string{"family_dysfunction"},
		"crisis_type":      "single_parent",
		"guardian_consent": true,
		"student_willing":  true,
		"reason":           "測試用轉介原因",
	}
}
