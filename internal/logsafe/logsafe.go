// Package logsafe renders errors and recovered panics for logs without
// the values they may carry. A PostgreSQL error can quote the offending
// value (its message: `invalid input syntax for type date: "…"`; its
// detail: `Key (email)=(…) already exists`), so only its code, table and
// constraint are kept; the other errors of the standard library that
// quote their input (a number or time that does not parse, a column that
// does not scan, a URL) keep what they say and lose the value. The
// context the code wrapped around them ("postgres: writing a person: …")
// stays.
package logsafe

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Err returns a log-safe description of err.
func Err(err error) string {
	if err == nil {
		return ""
	}
	return scrubQuoted(render(err, 0))
}

// render describes err: a known error that quotes a value by what it
// says without the value; any other error by its own text, each wrapped
// error in it rendered the same way.
func render(err error, depth int) string {
	if s, ok := known(err, depth); ok {
		return s
	}
	text := err.Error()
	if depth > 32 {
		return text
	}
	var kids []error
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if k := u.Unwrap(); k != nil {
			kids = []error{k}
		}
	case interface{ Unwrap() []error }:
		kids = u.Unwrap()
	}
	for _, k := range kids {
		if k == nil {
			continue
		}
		raw, safe := k.Error(), render(k, depth+1)
		switch {
		case raw == safe:
		case raw != "" && strings.Contains(text, raw):
			text = strings.ReplaceAll(text, raw, safe)
		default:
			// The wrapper's text does not show the wrapped error's as it
			// is: it may still hold the value; keep only its type.
			return fmt.Sprintf("%T: %s", err, safe)
		}
	}
	return text
}

// known describes the errors that quote a value.
func known(err error, depth int) (string, bool) {
	switch e := err.(type) {
	case *pq.Error:
		return fmt.Sprintf("postgres error %s (%s) table=%q constraint=%q", e.Code, e.Code.Name(), e.Table, e.Constraint), true
	case *strconv.NumError:
		return "strconv." + e.Func + ": parsing a value: " + e.Err.Error(), true
	case *time.ParseError:
		return "parsing time: the value does not match the layout " + strconv.Quote(e.Layout), true
	case *json.UnmarshalTypeError:
		// Value is "number 12345" for a number: keep its kind only.
		kind, _, _ := strings.Cut(e.Value, " ")
		where := e.Type.String()
		if e.Field != "" {
			where = e.Struct + "." + e.Field + " of type " + where
		}
		return "json: cannot unmarshal " + kind + " into " + where, true
	case *url.Error:
		// The URL may carry a query (an OIDC code, an address).
		inner := "<nil>"
		if e.Err != nil && depth <= 32 {
			inner = render(e.Err, depth+1)
		}
		return e.Op + " (URL left out): " + inner, true
	}
	return "", false
}

// convertValue matches database/sql's conversion errors, which quote the
// value read from the row: `converting driver.Value type string ("…") to a int`.
var convertValue = regexp.MustCompile(`(driver\.Value type [^ ]+ )\((?:"(?:[^"\\]|\\.)*"|[^()]*)\)`)

func scrubQuoted(s string) string {
	return convertValue.ReplaceAllString(s, "${1}(value left out)")
}

// Panic describes a recovered panic value for a log: its type and, for a
// runtime error (nil dereference, index out of range: these hold no
// data), its text. Any other panic value, an error included, may be built
// from data, so its text is left out.
func Panic(v any) string {
	if re, ok := v.(runtime.Error); ok {
		return "panic: " + re.Error()
	}
	if v == nil {
		return "panic(nil)"
	}
	return fmt.Sprintf("panic(%s): value left out", reflect.TypeOf(v))
}
