package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/spf13/cobra"
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

// Every command name is given once in its group, so help lists each once and none shadows
// another.
func TestCommandNamesAreUnique(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		seen := map[string]bool{}
		for _, sub := range c.Commands() {
			if seen[sub.Name()] {
				t.Errorf("%s: command %s is added twice", c.CommandPath(), sub.Name())
			}
			seen[sub.Name()] = true
			walk(sub)
		}
	}
	walk(newRoot())
}
