package main

import (
	"github.com/spf13/pflag"
)

// addJSONFlag adds --json: the command prints one JSON object on stdout in place of its text
// (warnings, progress and the error stay on stderr; the exit status is the same). The object
// is written by printJSON (airlock.go).
func addJSONFlag(fl *pflag.FlagSet, p *bool) {
	fl.BoolVar(p, "json", false, "print the result as one JSON object on stdout, for scripts (the exit status is unchanged)")
}
