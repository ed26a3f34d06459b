package main

import (
	"bytes"
	"context"
	"testing"
)

// steward runs the command line in-process and returns what it printed, both streams.
func steward(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}
