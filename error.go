package kiosk

import (
	"errors"
	"fmt"
)

// Error codes. Each names what a caller can do about the failure; the HTTP
// mapping lives with the protocol so client and server share one table.
const (
	EInvalid     = "invalid"     // the input is wrong; fix it and try again
	ENotFound    = "not_found"   // no such thing
	EConflict    = "conflict"    // exists already with different content
	ECorrupt     = "corrupt"     // stored data failed an integrity check
	EForeign     = "foreign"     // a file that belongs to another program or a newer version
	EUnavailable = "unavailable" // transient: retry later
	EInternal    = "internal"    // a bug or an unexpected failure
)

// Error is the one error type of the domain: a machine code and a message a
// person can act on.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the person-facing message of err.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
