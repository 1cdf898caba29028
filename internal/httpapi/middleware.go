package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/twid"
)

// maxRequestIDLen bounds an accepted X-Request-Id.
const maxRequestIDLen = 64

// requestIDs accepts a client's X-Request-Id only if it is 1–64 characters
// of [A-Za-z0-9._-]; anything else (too long, a name, a national ID with
// spaces or non-ASCII) is replaced by a generated id. The id is echoed,
// logged and recorded unsealed as correlation_id in the immutable log, so
// only opaque tokens may pass (issue 7, finding 6).
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		id := req.Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		req.Header.Set(echo.HeaderXRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// validRequestID reports whether id matches [A-Za-z0-9._-]{1,64} and
// holds no national ID or resident certificate number: a client that
// correlates its requests by the student's ID would otherwise write it
// into the immutable log (correlation_id) and the logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return !holdsNationalID(id)
}

// holdsNationalID reports whether s contains, in upper or lower case, a
// well-formed national ID or new-format resident certificate number
// (twid.Validate). A random hex token holds one by chance about once in
// four hundred; the id it loses is replaced, not refused.
func holdsNationalID(s string) bool {
	const n = 10
	for i := 0; i+n <= len(s); i++ {
		// Only a letter followed by 1, 2, 8 or 9 can start one: the
		// other windows are not folded to upper case (an allocation
		// each) on every request.
		if c := s[i] | 0x20; c < 'a' || c > 'z' || !strings.ContainsRune("1289", rune(s[i+1])) {
			continue
		}
		if twid.Validate(twid.Normalize(s[i:i+n])) == nil {
			return true
		}
	}
	return false
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requireJSON refuses a request body that is not declared as JSON:
// a missing Content-Type, text/plain, or JSON in another charset than
// UTF-8 (RFC 8259) is 415. A request without a body passes: commands such
// as opening a meeting take none. It guards every command that takes JSON;
// the office-calendar import (CSV) does not use it.
func requireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength == 0 {
			return next(c)
		}
		ct := req.Header.Get(echo.HeaderContentType)
		if ct == echo.MIMEApplicationJSON {
			return next(c) // what every client sends, without parsing (issue 13)
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != echo.MIMEApplicationJSON {
			return errMediaType()
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return errMediaType()
		}
		return next(c)
	}
}

func errMediaType() error {
	return &domain.Error{Code: eMediaType, Message: "the body must be JSON",
		Fields: map[string]string{"Content-Type": "must be application/json"}}
}

// requestTimeout puts a deadline on the request's context, so that a
// database or NATS call that hangs ends as 503 (context deadline, see
// dependencyDown) before the server's write timeout would cut the
// connection without an answer.
func requestTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if d <= 0 {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// retryAfter503 gives every 503 a Retry-After, whichever handler or
// middleware answered it: problems from the error handler and /readyz.
func retryAfter503(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		res.Before(func() {
			if res.Status == http.StatusServiceUnavailable && res.Header().Get(echo.HeaderRetryAfter) == "" {
				res.Header().Set(echo.HeaderRetryAfter, retryAfter)
			}
		})
		return next(c)
	}
}

// storeUp answers a command 503 at once while the NATS connection is down,
// instead of letting it wait for its request timeout.
func (s *Server) storeUp(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.nc != nil && !s.nc.IsConnected() {
			return domain.Errorf(domain.EUnavailable, "the event store is unavailable; retry shortly")
		}
		return next(c)
	}
}
