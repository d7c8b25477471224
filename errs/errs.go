// Package errs holds the error codes every Souk package returns, with the
// field-level messages a client needs to mend its input.
//
// Domain code returns *Error values (or wraps them); only the api and web
// packages translate codes into HTTP statuses, and only Internal errors are
// logged with their cause.
package errs

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Code classifies an error by what the caller can do about it.
type Code string

// The codes. Each maps to exactly one HTTP status in the api package.
const (
	Invalid          Code = "invalid"           // the input is wrong; Fields say where (422)
	BadRequest       Code = "bad_request"       // the request cannot be read at all (400)
	Unauthorized     Code = "unauthorized"      // no valid credentials (401)
	Forbidden        Code = "forbidden"         // credentials valid, action not allowed (403)
	NotFound         Code = "not_found"         // no such resource, or not visible to the caller (404)
	Conflict         Code = "conflict"          // the state forbids it: taken, duplicate, stale (409)
	TooLarge         Code = "too_large"         // the body or file exceeds a limit (413)
	UnsupportedMedia Code = "unsupported_media" // wrong content type or file type (415)
	RateLimited      Code = "rate_limited"      // too many attempts; RetryAfter says when (429)
	Unavailable      Code = "unavailable"       // a peer is down or saturated; retry later (503)
	Internal         Code = "internal"          // a bug or an unexpected fault (500)
)

// FieldError names one input field at fault and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the error type of the project: a code, a message safe to show to
// the client, optional field errors, and the wrapped cause (never shown).
type Error struct {
	Code       Code
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration  // for RateLimited and Unavailable
	Extra      map[string]any // extra members of the problem document (e.g. conflicting_days)
	Err        error          // the cause, for logs only
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a code and a formatted client-safe message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an error with a code and a message around a cause that is
// kept for logs but never shown to clients.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// WithExtra adds a member to the problem document and returns e.
func (e *Error) WithExtra(key string, value any) *Error {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[key] = value
	return e
}

// WithRetryAfter sets the retry hint and returns e.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	e.RetryAfter = d
	return e
}

// CodeOf returns the code of the first *Error in err's chain, Internal for
// any other non-nil error, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return CodeOf(err) == code }

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Fields collects field errors; its Err method returns nil when none were
// added, so validation reads top to bottom:
//
//	var f errs.Fields
//	if in.Email == "" { f.Add("email", "is required") }
//	return f.Err()
type Fields []FieldError

// Add records that field is wrong, with a message.
func (f *Fields) Add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether an error was recorded for field.
func (f Fields) Has(field string) bool {
	for _, e := range f {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Err returns an Invalid error listing the fields, or nil when there are none.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "the request has invalid fields", Fields: append([]FieldError(nil), f...)}
}

// InvalidField is a shortcut for an Invalid error on a single field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Message: "the request has invalid fields",
		Fields: []FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}
