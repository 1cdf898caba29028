package session

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// A session resolved by the caller is reused for its own cookie value
// only: another cookie under the same context is looked up as usual.
func TestMiddlewareReusesOnlyTheSessionResolvedForItsCookie(t *testing.T) {
	s := &Store{} // no database: a lookup of a real value would panic
	resolvedFor := "value-of-the-page-request"
	ses := Session{ID: "ses_1", PersonID: "per_1"}
	run := func(cookie string) (Session, bool) {
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		req = req.WithContext(WithResolved(req.Context(), resolvedFor, ses))
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		c := echo.New().NewContext(req, httptest.NewRecorder())
		var got Session
		var ok bool
		if err := s.Middleware(func(c echo.Context) error { got, ok = FromContext(c); return nil })(c); err != nil {
			t.Fatal(err)
		}
		return got, ok
	}
	if got, ok := run(resolvedFor); !ok || got.ID != ses.ID {
		t.Fatalf("the resolved session was not reused: %+v %v", got, ok)
	}
	// Over 100 characters: Lookup refuses it without the database.
	if got, ok := run(strings.Repeat("x", 101)); ok {
		t.Fatalf("another cookie took the resolved session: %+v", got)
	}
}
