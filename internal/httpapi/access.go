package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/accesslog"
	"cihui/internal/domain"
	"cihui/internal/logsafe"
	"cihui/internal/projections"
)

// AccessWriter writes access records to their append-only store and
// returns once the record is durable (accesslog.Log).
type AccessWriter interface {
	Write(ctx context.Context, r accesslog.Record) error
}

// recordAccess records that the caller is about to receive personal data
// of the given cases (PDPA enforcement rules §12). It is called just
// before the response is written: if the record cannot be written, the
// read fails with 503 and sends no data. A response naming no case
// carries no one's data and is not recorded.
func (s *Server) recordAccess(c echo.Context, caseIDs ...string) error {
	if len(caseIDs) == 0 {
		return nil
	}
	r, err := s.accessRecord(c, caseIDs)
	if err != nil {
		return err
	}
	return s.accessWritten(c, s.access.Write(c.Request().Context(), r))
}

// beginAccess starts writing the access record of a read while the read
// goes on building its answer, and returns what waits for it: the answer
// is sent only once it returned nil. A read that fails after it began
// may leave a record of its attempt: the log may hold a read that was not
// answered, never lack one that was. The record's durable write was most
// of a case detail's latency under load, after its other work (issue 13).
// wait is called by the handler, before it returns.
func (s *Server) beginAccess(c echo.Context, caseIDs ...string) (wait func() error) {
	if len(caseIDs) == 0 {
		return func() error { return nil }
	}
	r, err := s.accessRecord(c, caseIDs)
	if err != nil {
		return func() error { return err }
	}
	ctx := c.Request().Context()
	done := make(chan error, 1)
	go func() { done <- s.access.Write(ctx, r) }()
	return func() error { return s.accessWritten(c, <-done) }
}

// accessRecord is the access record of the caller's read of the cases; an
// error if no access log is configured.
func (s *Server) accessRecord(c echo.Context, caseIDs []string) (accesslog.Record, error) {
	if s.access == nil {
		return accesslog.Record{}, domain.Errorf(domain.EUnavailable, "the access log is not configured; personal data is not served")
	}
	a := actorOf(c)
	return accesslog.Record{
		ID: accesslog.NewID(), At: time.Now().UTC(), RequestID: accesslog.SafeRequestID(requestID(c)),
		Method: c.Request().Method, Route: c.Path(),
		Actor: accesslog.Actor{Role: string(a.Role), School: a.School, Branch: a.Branch, Person: a.UserID},
		Cases: caseIDs,
	}, nil
}

// accessWritten answers a read by its record's write: a record not written
// refuses the read.
func (s *Server) accessWritten(c echo.Context, err error) error {
	if err != nil {
		s.log.Error("access record not written; read refused", "request_id", requestID(c), "route", c.Path(), "err", logsafe.Err(err))
		return domain.Errorf(domain.EUnavailable, "the access log cannot be written; personal data is not served until it can")
	}
	return nil
}

// AccessLogPage is the body of GET /v1/access-log.
type AccessLogPage struct {
	Items      []projections.AccessEntry `json:"items"`
	NextCursor string                    `json:"next_cursor,omitempty"`
}

// accessLog serves GET /v1/access-log?case=&actor=&from=&to=&cursor=&limit=
// to admins: who read a student's personal data, when, through which
// route. from and to are RFC 3339 times or dates (to is exclusive).
func (s *Server) accessLog(c echo.Context) error {
	f := projections.AccessFilter{Case: c.QueryParam("case"), Actor: c.QueryParam("actor"), Limit: 100}
	bad := map[string]string{}
	if f.Case != "" && !validID(f.Case) {
		bad["case"] = "must be a case id"
	}
	if f.Actor != "" && !validID(f.Actor) {
		bad["actor"] = "must be a person id (or a token id, for reads before people)"
	}
	for name, p := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			t, err := parseTimeOrDate(v)
			if err != nil {
				bad[name] = "must be an RFC 3339 time or a date YYYY-MM-DD"
				continue
			}
			*p = &t
		}
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		bad["to"] = "must be after from"
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad["limit"] = "must be an integer from 1 to 1000"
		}
		f.Limit = n
	}
	if v := c.QueryParam("cursor"); v != "" {
		// "position.index", or a bare position (after all of its records).
		pos, idx, hasIdx := strings.Cut(v, ".")
		n, err := strconv.ParseUint(pos, 10, 64)
		f.AfterIndex = -1
		if hasIdx && err == nil {
			f.AfterIndex, err = strconv.Atoi(idx)
			if err == nil && f.AfterIndex < 0 {
				err = strconv.ErrRange
			}
		}
		if err != nil {
			bad["cursor"] = "must be a cursor from a previous page"
		}
		f.After = n
	}
	if len(bad) > 0 {
		return domain.Invalid(bad)
	}
	rows, err := s.reader.AccessLog(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := AccessLogPage{Items: rows}
	if len(rows) == f.Limit {
		last := rows[len(rows)-1]
		out.NextCursor = strconv.FormatUint(last.Position, 10) + "." + strconv.Itoa(last.Index)
	}
	return c.JSON(http.StatusOK, out)
}

func parseTimeOrDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", v, domain.Taipei)
}

// validID: 1..64 characters of [A-Za-z0-9_-].
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// caseIDs returns the case ids of a page of rows.
func caseIDs[T any](rows []T, id func(T) string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}
