package logsafe_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"cihui/internal/logsafe"
)

func TestPostgresValuesAreDropped(t *testing.T) {
	err := fmt.Errorf("applying: %w", &pq.Error{Code: "22007", Message: `invalid input syntax for type date: "2012-99-01"`, Table: "case_personal", Detail: "Key (national_id)=(A123456789)"})
	got := logsafe.Err(err)
	if strings.Contains(got, "2012-99-01") || strings.Contains(got, "A123456789") || !strings.Contains(got, "22007") || !strings.Contains(got, "case_personal") {
		t.Fatalf("Err = %q", got)
	}
	if logsafe.Err(nil) != "" {
		t.Fatal("nil")
	}
}

// The context wrapped around an error stays; only the values go.
func TestErrKeepsContextAndDropsValues(t *testing.T) {
	const marker = "MARKER-9f2c"
	var numErr error
	if _, err := strconv.Atoi(marker); err != nil {
		numErr = err
	}
	var timeErr error
	if _, err := time.Parse(time.DateOnly, marker); err != nil {
		timeErr = err
	}
	var typeErr error
	if err := json.Unmarshal([]byte(`{"n":918273645}`), new(struct {
		N string `json:"n"`
	})); err != nil {
		typeErr = err
	}
	_, urlErr := http.Get("http://127.0.0.1:1/auth/oidc/callback?code=" + marker)
	for name, tc := range map[string]struct {
		err     error
		secrets []string
		keep    []string
	}{
		"unique violation": {
			err: fmt.Errorf("postgres: writing a person: %w", &pq.Error{Code: "23505", Message: `duplicate key value violates unique constraint "people_email"`,
				Detail: "Key (lower(email))=(" + marker + "@example.edu.tw) already exists.", Table: "people", Constraint: "people_email"}),
			secrets: []string{marker}, keep: []string{"postgres: writing a person: ", "23505", "unique_violation", "people_email"},
		},
		"invalid input quoted in the message": {
			err:     fmt.Errorf("x: %w", &pq.Error{Code: "22P02", Message: `invalid input syntax for type integer: "` + marker + `"`}),
			secrets: []string{marker}, keep: []string{"x: ", "22P02"},
		},
		"joined": {
			err:     errors.Join(errors.New("first"), fmt.Errorf("second: %w", &pq.Error{Code: "23505", Detail: marker})),
			secrets: []string{marker}, keep: []string{"first", "second: ", "23505"},
		},
		"number": {
			err: fmt.Errorf("reading: %w", numErr), secrets: []string{marker}, keep: []string{"reading: ", "Atoi", "invalid syntax"},
		},
		"time": {
			err: fmt.Errorf("reading: %w", timeErr), secrets: []string{marker}, keep: []string{"reading: ", "2006-01-02"},
		},
		"json type": {
			err: fmt.Errorf("decoding: %w", typeErr), secrets: []string{"918273645"}, keep: []string{"decoding: ", "number", "string"},
		},
		"url": {
			err: fmt.Errorf("oidc: %w", urlErr), secrets: []string{marker}, keep: []string{"oidc: ", "Get"},
		},
		"scan": {
			err:     fmt.Errorf(`sql: Scan error on column index 1, name "grade": %w`, fmt.Errorf(`converting driver.Value type string (%q) to a int: invalid syntax`, marker+` "x"`)),
			secrets: []string{marker}, keep: []string{`name "grade"`, "to a int: invalid syntax"},
		},
		// A wrapper that rewrites the wrapped error's text: only its type
		// and the wrapped error, rendered, are kept.
		"rewritten": {
			err:     &rewrap{inner: &pq.Error{Code: "23505", Message: marker, Detail: marker}},
			secrets: []string{marker}, keep: []string{"23505"},
		},
	} {
		got := logsafe.Err(tc.err)
		for _, s := range tc.secrets {
			if strings.Contains(got, s) {
				t.Errorf("%s: %q holds %q", name, got, s)
			}
		}
		for _, k := range tc.keep {
			if !strings.Contains(got, k) {
				t.Errorf("%s: %q lost %q", name, got, k)
			}
		}
	}
	// Errors that quote nothing are left as they are.
	plain := fmt.Errorf("projections: consumer: %w", errors.New("nats: timeout"))
	if got := logsafe.Err(plain); got != plain.Error() {
		t.Fatalf("Err(%q) = %q", plain, got)
	}
}

type rewrap struct{ inner error }

func (r *rewrap) Error() string { return "wrapped " + strings.ToUpper(r.inner.Error()) }
func (r *rewrap) Unwrap() error { return r.inner }

func TestPanicKeepsRuntimeErrorsOnly(t *testing.T) {
	const marker = "A123456789"
	runtimeErr := func() (r any) {
		defer func() { r = recover() }()
		var ids []string
		return ids[len(marker)] // index out of range
	}()
	if got := logsafe.Panic(runtimeErr); !strings.Contains(got, "index out of range") {
		t.Fatalf("Panic(runtime error) = %q", got)
	}
	for _, v := range []any{marker, fmt.Errorf("bad id %s", marker), []string{marker}, struct{ ID string }{marker}} {
		if got := logsafe.Panic(v); strings.Contains(got, marker) || !strings.Contains(got, "panic(") {
			t.Errorf("Panic(%T) = %q", v, got)
		}
	}
}
