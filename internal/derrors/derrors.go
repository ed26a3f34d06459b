// Package derrors names the kinds of failure that callers act on differently, so that the web
// layer maps each to one HTTP status and the command line to a clear message. Wrap a kind
// with context (fmt.Errorf("user %q: %w", name, derrors.NotFound)) and test with errors.Is.
package derrors

import "errors"

var (
	// Invalid: the request is malformed or a value is out of range (400).
	Invalid = errors.New("invalid request")
	// Unauthenticated: no valid credentials (401).
	Unauthenticated = errors.New("not signed in")
	// Forbidden: the caller may not do this (403).
	Forbidden = errors.New("not allowed")
	// NotFound: the thing does not exist or the caller may not know it does (404).
	NotFound = errors.New("not found")
	// Conflict: it exists already, or the state forbids the change (409).
	Conflict = errors.New("conflict")
	// Locked: the account or source address is locked until an administrator reinstates it (423).
	Locked = errors.New("locked")
	// TooMany: the caller sends too many requests (429).
	TooMany = errors.New("too many requests")
)

// Kind returns the first kind err wraps, or nil for an unexpected error.
func Kind(err error) error {
	for _, k := range []error{Invalid, Unauthenticated, Forbidden, NotFound, Conflict, Locked, TooMany} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}
