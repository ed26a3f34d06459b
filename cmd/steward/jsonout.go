package main

import (
	"encoding/json"
	"io"

	"github.com/spf13/pflag"
)

// addJSONFlag adds --json: the command prints one JSON object on stdout in place of its text
// (warnings, progress and the error stay on stderr; the exit status is the same).
func addJSONFlag(fl *pflag.FlagSet, p *bool) {
	fl.BoolVar(p, "json", false, "print the result as one JSON object on stdout, for scripts (the exit status is unchanged)")
}

// printJSON writes v as indented JSON and a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
