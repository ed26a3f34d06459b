package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/derrors"
)

// The exit statuses of every command. A script tells them apart; `steward help exit-codes`
// prints the table and the README repeats it.
const (
	exitOK           = 0
	exitChecksFailed = 1 // a check failed, a request was refused, or the work failed
	exitBadInput     = 2 // the command line or its input is wrong
	exitUnreachable  = 3 // a database, server or storage service did not answer
	exitInterrupted  = 130
)

// exitCodes is the table, in the order printed.
var exitCodes = []struct {
	Code    int
	Meaning string
}{
	{exitOK, "success: the work is done, every check passed"},
	{exitChecksFailed, "a check failed or a request was refused (deid verify found a problem, disclosure check refused the table, transfer confirm found files that do not match, access was denied or locked), or the work failed for another reason"},
	{exitBadInput, "usage or input error: an unknown command or flag, a missing or wrong argument, flags that do not go together, or input that cannot be used (a policy that does not parse or fit, a file that is missing, a copy that is not a copy of the original, a name that does not exist)"},
	{exitUnreachable, "a component did not answer: a database server, the Steward server, or a storage service (Azure, S3) refused the connection, timed out or has no such host"},
	{exitInterrupted, "interrupted (Ctrl-C or SIGTERM); commands that resume (deid run --in-place, transfer push) pick up where they stopped when given again"},
}

// exitTable is the table as text.
func exitTable() string {
	var b strings.Builder
	b.WriteString("Exit status of every steward command:\n\n")
	for _, c := range exitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", c.Code, c.Meaning)
	}
	return b.String()
}

// newExitCodesTopic is `steward help exit-codes`: a help topic, not a command.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit status of every command: 0 ok, 1 failed or refused, 2 usage or input, 3 unreachable",
		Long:  exitTable(),
	}
}

// exitError ends the program with a given status after printing its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or input error (exit 2).
func usageError(err error) error { return &exitError{exitBadInput, err} }

// usagef is usageError(fmt.Errorf(…)).
func usagef(format string, a ...any) error { return usageError(fmt.Errorf(format, a...)) }

// unreachable tells whether err comes from a connection that could not be made: a refused or
// timed-out dial, an unknown host, a host or network that cannot be reached.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// exitCode is the status for an error a command returned. started says whether the command's
// own work began (its RunE was entered): an error before that is cobra's — an unknown command
// or flag, a wrong number of arguments, a required flag missing — and is a usage error.
func exitCode(ctx context.Context, err error, started bool) int {
	if err == nil {
		return exitOK
	}
	if !started {
		return exitBadInput
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	var e *exitError
	explicit := errors.As(err, &e)
	if unreachable(err) && (!explicit || e.code == exitBadInput) {
		return exitUnreachable
	}
	if explicit {
		return e.code
	}
	switch derrors.Kind(err) {
	case derrors.Invalid, derrors.NotFound:
		return exitBadInput
	}
	if errors.Is(err, fs.ErrNotExist) { // a file named on the command line is not there
		return exitBadInput
	}
	return exitChecksFailed
}

// refuseUnknownSubcommands makes every group of commands (steward deid, steward admin, …)
// refuse a word that names none of its commands, as the root does, instead of printing its
// help and exiting 0; without arguments it still prints its help.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if c.HasParent() && c.HasSubCommands() && c.RunE == nil && c.Run == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		}
	}
}

// execute runs the command line with args and returns its exit status, the error printed to
// stderr. Every command's RunE is wrapped to note that its work began.
func execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	started := false
	var wrap func(c *cobra.Command)
	wrap = func(c *cobra.Command) {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, a []string) error {
				started = true
				return run(cmd, a)
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err, started)
	if err != nil {
		fmt.Fprintln(stderr, "steward:", err)
		if code == exitBadInput && !started {
			fmt.Fprintln(stderr, "(see 'steward help' and 'steward help exit-codes')")
		}
	}
	return code
}
