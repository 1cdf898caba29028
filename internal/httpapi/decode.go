package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// wrong types and trailing data. Error messages name the field and what
// was expected, never the value sent (it may be personal data).
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return domain.Invalid(map[string]string{"": "a JSON body is required"})
	}
	if !utf8.Valid(body) {
		return domain.Invalid(map[string]string{"": "the body must be UTF-8 JSON"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Invalid(map[string]string{"": "the body must hold exactly one JSON object"})
	}
	return nil
}

var fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Invalid(map[string]string{"": "the body is not valid JSON"})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "."
		}
		return domain.Invalid(map[string]string{field: "must be of type " + jsonType(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The name is the client's: named back only when it looks like a
		// field name, never when it could be anything else.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if !fieldNameRE.MatchString(name) {
			name = ""
		}
		return domain.Invalid(map[string]string{name: "unknown field"})
	}
	return domain.Invalid(map[string]string{"": "the body could not be read as the expected JSON object"})
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "int32", "uint", "uint64", "uint32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return kind
}

// validator is a request body that checks its own fields, without loading
// anything, before a command runs. The checks are the domain's: the
// commands repeat them, so a non-HTTP caller cannot record what the
// boundary refuses.
type validator interface {
	validate(today calendar.Date) error
}

// decodeCommand is the pure first step of every command endpoint, run
// before anything is loaded: decode the body strictly (an optional body
// may be empty) and let it check its fields.
func decodeCommand(body []byte, v any, optional bool, today calendar.Date) error {
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := decodeStrict(body, v); err != nil {
		return err
	}
	if val, ok := v.(validator); ok {
		return val.validate(today)
	}
	return nil
}

// validPathParams checks every path parameter against its exact format
// before any handler runs, so that nothing is loaded for a malformed id:
// referral and meeting ids, checklist items, calendar years. The message
// never echoes the value.
func validPathParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := pathParamsError(c.Path(), c.ParamNames(), c.ParamValues()); err != nil {
			return err
		}
		return next(c)
	}
}

func pathParamsError(route string, names, values []string) error {
	var ck domain.Check
	for i, name := range names {
		if i >= len(values) {
			break
		}
		v := values[i]
		switch name {
		case "id":
			if strings.HasPrefix(route, "/v1/people/") || strings.HasPrefix(route, "/v1/sessions/") {
				if !validID(v) {
					ck.Set("id", "must be an id of [A-Za-z0-9_-]")
				}
			} else if strings.HasPrefix(route, "/v1/meetings/") {
				if !domain.IsMeetingID(v) {
					ck.Set("id", "must be a meeting id (m and 24 characters a–z, 2–7)")
				}
			} else if !domain.IsReferralID(v) {
				ck.Set("id", "must be a referral id (r and 24 characters a–z, 2–7)")
			}
		case "token":
			if !validID(v) {
				ck.Set("token", "must be a token id")
			}
		case "sheet":
			if !domain.IsScoreSheetID(v) {
				ck.Set("sheet", "must be a score sheet id (s and 24 characters a–z, 2–7)")
			}
		case "item":
			if _, ok := smallInt(v, 1, domain.ChecklistItems); !ok {
				ck.Set("item", "must be a checklist item 1–12 (R-DOC-1)")
			}
		case "n":
			if _, ok := smallInt(v, 1, MaxEpisode); !ok {
				ck.Set("n", "must be a dropout episode number 1–"+strconv.Itoa(MaxEpisode))
			}
		case "year":
			if _, ok := smallInt(v, domain.MinCalendarYear, domain.MaxCalendarYear); !ok {
				ck.Set("year", "must be an AD year such as 2026")
			}
		case "report":
			if _, ok := statReportOf(v); !ok {
				ck.Set("report", "must be one of "+strings.Join(StatReportCodes(), ", "))
			}
		case "academic_year":
			if _, ok := smallInt(v, domain.MinAcademicYear, domain.MaxAcademicYear); !ok {
				ck.Set("academic_year", "must be an ROC academic year such as 115")
			}
		}
	}
	return ck.Err()
}

// smallInt parses a decimal integer of at most 9 digits, without sign or
// leading zeros, in [lo, hi].
func smallInt(s string, lo, hi int) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= lo && n <= hi
}

// query reads and checks query parameters, collecting per-field problems.
type query struct {
	c  echo.Context
	ck domain.Check
}

// intIn returns the parameter as an integer in [lo, hi]; absent gives def.
func (q *query) intIn(name string, lo, hi, def int) int {
	v := q.c.QueryParam(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		q.ck.Set(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return def
	}
	return n
}

// oneOf returns the parameter if it is one of set; absent gives "".
func (q *query) oneOf(name string, set []string) string {
	v := q.c.QueryParam(name)
	if v == "" {
		return ""
	}
	q.ck.OneOf(name, v, set, true)
	if q.ck.Has(name) {
		return ""
	}
	return v
}

// code returns the parameter if it is a code (school, branch).
func (q *query) code(name string) string {
	v := q.c.QueryParam(name)
	q.ck.Code(name, v, false)
	if q.ck.Has(name) {
		return ""
	}
	return v
}

// academicYear returns ?academic_year, 0 when absent.
func (q *query) academicYear() int {
	return q.intIn("academic_year", domain.MinAcademicYear, domain.MaxAcademicYear, 0)
}

func (q *query) err() error { return q.ck.Err() }

// parseCursor checks a list cursor: the id of the last case of the
// previous page. Anything else is the one "invalid cursor" answer; the
// reader gives the same answer for a case outside the caller's scope.
func parseCursor(s string) (string, error) {
	if s == "" || domain.IsReferralID(s) {
		return s, nil
	}
	return "", domain.Invalid(map[string]string{"cursor": domain.MsgInvalidCursor})
}

// parseIfMatch reads an If-Match header: a version as the ETag gives it,
// "3", optionally weak (W/"3"); the quotes may be left out.
func parseIfMatch(h string) (uint64, error) {
	s := strings.TrimPrefix(h, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" || len(s) > 20 || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, domain.Invalid(map[string]string{"If-Match": `must be a version such as "3"`})
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, domain.Invalid(map[string]string{"If-Match": `must be a version such as "3"`})
	}
	return v, nil
}
