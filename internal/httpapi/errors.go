package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/logsafe"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Code     string            `json:"code"`
	Detail   string            `json:"detail,omitempty"`
	Rule     string            `json:"rule,omitempty"`
	Errors   map[string]string `json:"errors,omitempty"`
	Instance string            `json:"instance,omitempty"`
}

// Codes of the HTTP layer alone: the domain never produces them.
const (
	eMethod    domain.Code = "method_not_allowed"     // no such method on the resource; Allow lists those there are
	eMediaType domain.Code = "unsupported_media_type" // the body is not JSON where JSON is expected
)

// retryAfter is the Retry-After, in seconds, of every 503 (a dependency
// that is down, read models that lag, /readyz not ready); see
// retryAfter503.
const retryAfter = "2"

// statusOf maps every error code to its HTTP status, in one place.
var statusOf = map[domain.Code]int{
	eMethod:               http.StatusMethodNotAllowed,
	eMediaType:            http.StatusUnsupportedMediaType,
	domain.EInvalid:       http.StatusBadRequest,
	domain.EUnauthorized:  http.StatusUnauthorized,
	domain.EForbidden:     http.StatusForbidden,
	domain.ENotFound:      http.StatusNotFound,
	domain.EConflict:      http.StatusConflict,
	domain.EPrecondition:  http.StatusPreconditionFailed,
	domain.ERule:          http.StatusUnprocessableEntity,
	domain.EIdempotency:   http.StatusUnprocessableEntity,
	domain.ETooManyInputs: http.StatusRequestEntityTooLarge,
	domain.EUnavailable:   http.StatusServiceUnavailable,
	domain.EInternal:      http.StatusInternalServerError,
	domain.ETooMany:       http.StatusTooManyRequests,
}

// errorHandler writes every error as application/problem+json. Internal
// causes are logged (without personal data: errors never carry it) and
// never shown.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	var e *domain.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &he):
		e = httpError(he)
	case dependencyDown(err):
		e = &domain.Error{Code: domain.EUnavailable, Message: "a service the API depends on is unavailable; retry shortly"}
	default:
		e = domain.AsError(err)
	}
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", requestID(c), "code", e.Code, "err", logsafe.Err(err))
	}
	p := Problem{
		Type:   "https://cihui.invalid/problems/" + string(e.Code),
		Title:  http.StatusText(status),
		Status: status,
		Code:   string(e.Code),
		Detail: e.Message,
		Rule:   e.Rule,
		Errors: e.Fields,
		// The request, not its path: a path may carry whatever a client
		// typed where an id belongs, personal data included.
		Instance: "urn:cihui:request:" + requestID(c),
	}
	if e.Rule != "" {
		p.Type = "https://cihui.invalid/rules/" + e.Rule
	}
	b, _ := json.Marshal(p)
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(b)
	}
}

// errPanicked answers a request whose handler panicked.
var errPanicked = &domain.Error{Code: domain.EInternal, Message: "internal error"}

// recoverPanics turns a handler's panic into a 500 problem. The log names
// the request, the route, what panicked (logsafe.Panic: a runtime error's
// text, else the value's type only, for a panic value may be built from
// personal data) and the panicking goroutine's stack (functions and
// lines, arguments as machine words). echo's Recover is not used: it
// prints the value, and every goroutine's stack, to its own log.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			stack := make([]byte, 8<<10)
			stack = stack[:runtime.Stack(stack, false)]
			s.log.Error("handler panicked", "request_id", requestID(c), "route", c.Path(), "panic", logsafe.Panic(r), "stack", string(stack))
			err = errPanicked
		}()
		return next(c)
	}
}

func httpError(he *echo.HTTPError) *domain.Error {
	msg := http.StatusText(he.Code)
	switch he.Code {
	case http.StatusNotFound:
		return &domain.Error{Code: domain.ENotFound, Message: "no such resource"}
	case http.StatusMethodNotAllowed:
		return &domain.Error{Code: eMethod, Message: "method not allowed on this resource; Allow lists the methods it has"}
	case http.StatusRequestEntityTooLarge:
		return &domain.Error{Code: domain.ETooManyInputs, Message: "the request body is too large"}
	case http.StatusUnauthorized:
		return &domain.Error{Code: domain.EUnauthorized, Message: msg}
	case http.StatusServiceUnavailable:
		return &domain.Error{Code: domain.EUnavailable, Message: msg}
	}
	if he.Code >= 400 && he.Code < 500 {
		return &domain.Error{Code: domain.EInvalid, Message: msg}
	}
	return &domain.Error{Code: domain.EInternal, Message: "internal error"}
}
