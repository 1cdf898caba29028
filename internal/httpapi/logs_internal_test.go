package httpapi

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/lib/pq"
)

// A handler that panics with a value built from personal data, or that
// fails with a PostgreSQL error quoting a row's values (a unique
// violation's detail, an invalid input's message), answers 500 with a
// problem that says nothing of it, and the log names the request, the
// route, the error's code and the panic's kind and stack, never the value.
func TestInternalFailuresLogNoValues(t *testing.T) {
	const marker = "A123456789-王秘密"
	var buf bytes.Buffer
	s := New(Config{Log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	s.echo.GET("/test/panic-value", func(echo.Context) error { panic("student " + marker) })
	s.echo.GET("/test/panic-error", func(echo.Context) error { panic(fmt.Errorf("bad row %s", marker)) })
	s.echo.GET("/test/panic-runtime", func(echo.Context) error {
		var ids []string
		return echo.NewHTTPError(http.StatusTeapot, ids[len(marker)]) // index out of range
	})
	s.echo.GET("/test/unique", func(echo.Context) error {
		return fmt.Errorf("postgres: writing a person: %w", &pq.Error{Code: "23505", Message: `duplicate key value violates unique constraint "people_email"`,
			Detail: "Key (lower(email))=(" + marker + ") already exists.", Table: "people", Constraint: "people_email"})
	})
	s.echo.GET("/test/syntax", func(echo.Context) error {
		return fmt.Errorf("x: %w", &pq.Error{Code: "22P02", Message: `invalid input syntax for type integer: "` + marker + `"`})
	})
	for _, path := range []string{"/test/panic-value", "/test/panic-error", "/test/panic-runtime", "/test/unique", "/test/syntax"} {
		buf.Reset()
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusInternalServerError || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		log := buf.String()
		if strings.Contains(rec.Body.String(), marker) || strings.Contains(log, marker) || strings.Contains(log, "A123456789") {
			t.Errorf("%s: the value is in the answer or the log:\n%s\n%s", path, rec.Body, log)
		}
		if !strings.Contains(log, `"route":"`+path+`"`) {
			t.Errorf("%s: the log does not name the route:\n%s", path, log)
		}
		switch {
		case strings.HasPrefix(path, "/test/panic"):
			if !strings.Contains(log, "handler panicked") || !strings.Contains(log, "TestInternalFailuresLogNoValues") {
				t.Errorf("%s: the log lacks the panic and its stack:\n%s", path, log)
			}
			if path == "/test/panic-runtime" && !strings.Contains(log, "index out of range") {
				t.Errorf("%s: the log lacks the runtime error:\n%s", path, log)
			}
		case path == "/test/unique":
			if !strings.Contains(log, "23505") || !strings.Contains(log, "people_email") || !strings.Contains(log, "postgres: writing a person") {
				t.Errorf("%s: the log lacks the error's code, constraint or context:\n%s", path, log)
			}
		}
	}
}
