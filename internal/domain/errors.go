// Package domain holds the rules of the Cihui-class referral process: the
// aggregates, the commands that check rules and record events, and the one
// error type every layer speaks. It imports no infrastructure.
package domain

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class. The HTTP layer maps each code to
// a status in one place.
type Code string

// Error codes.
const (
	EInvalid       Code = "invalid"             // malformed input
	EUnauthorized  Code = "unauthorized"        // no or unknown credentials
	EForbidden     Code = "forbidden"           // role or scope does not allow it
	ENotFound      Code = "not_found"           // unknown, or not visible to the caller
	EConflict      Code = "conflict"            // concurrent change, or state forbids it
	EPrecondition  Code = "precondition_failed" // If-Match did not match
	ERule          Code = "rule_violation"      // well-formed but breaks a rule (Rule set)
	EIdempotency   Code = "idempotency_key_reused"
	EUnavailable   Code = "unavailable" // a dependency is down
	EInternal      Code = "internal"
	ETooManyInputs Code = "too_large"
	ETooMany       Code = "too_many_attempts" // rate limit or lock-out of sign-in attempts
)

// Error is the application error. Messages must never contain personal
// data: they are logged and returned to clients.
type Error struct {
	Code    Code
	Rule    string            // rule id such as "R-CAP-1", for ERule
	Message string            // human-readable, safe to show
	Fields  map[string]string // per-field problems, for EInvalid
}

func (e *Error) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Rule, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// RuleError returns an ERule error citing the rule id.
func RuleError(rule, format string, args ...any) *Error {
	return &Error{Code: ERule, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error with per-field messages.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EInvalid, Message: "the request has invalid fields", Fields: fields}
}

// ErrorCode returns the code of err, EInternal for a foreign error and ""
// for nil.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EInternal
}

// AsError returns err as an *Error, wrapping a foreign error as EInternal
// with a generic message (the cause is not shown to clients).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: EInternal, Message: "internal error"}
}
