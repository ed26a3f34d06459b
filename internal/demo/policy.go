package demo

import _ "embed"

//go:embed policy.yaml
var policy []byte

// Policy returns the de-identification policy for the demo database, as
// YAML, with a comment on every rule that changes data saying why. It lists
// every column of every table Build creates.
func Policy() []byte {
	return append([]byte(nil), policy...)
}
