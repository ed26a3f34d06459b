package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// stewardExit runs the command line in-process as main does and returns its exit status and
// everything it printed.
func stewardExit(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := execute(context.Background(), newRoot(), args, &out, &out)
	return code, out.String()
}

// closedPort is a local TCP port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// Every way of getting the command line wrong exits 2, on every command: before, an unknown
// flag or a missing argument exited 1 like a failed check, and an unknown word after a group
// (steward deid bogus) printed help and exited 0.
func TestUsageErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"bogus"},
		{"deid", "bogus"},
		{"admin", "nosuch"},
		{"transfer", "grnt"},
		{"deid", "check"},             // required flags missing
		{"deid", "check", "--policy"}, // a flag without its value
		{"deid", "verify", "--min-k", "many", "--policy", "p", "--source", "s", "--target", "t"}, // a value of the wrong type
		{"version", "extra"}, // an argument where none is taken
		{"deid", "run", "--policy", filepath.Join(dir, "p.yaml"), "--source", "sqlite:" + filepath.Join(dir, "x.db"), "--unkeyed"}, // neither --target nor --in-place
		{"deid", "check", "--policy", filepath.Join(dir, "missing.yaml"), "--source", "sqlite:" + filepath.Join(dir, "x.db")},      // a file that is not there
		{"deid", "verify", "--policy", "p.yaml", "--source", "s", "--target", "t", "--report", "r.pdf"},                            // an unknown report format
	} {
		if code, out := stewardExit(t, args...); code != exitBadInput {
			t.Errorf("steward %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitBadInput, out)
		}
	}
	// A policy that does not fit the database: a table it does not name.
	db, err := sql.Open("sqlite", filepath.Join(dir, "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE unnamed (id INTEGER PRIMARY KEY, note TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pol := filepath.Join("..", "..", "internal", "demo", "policy.yaml")
	if code, out := stewardExit(t, "deid", "check", "--policy", pol, "--source", "sqlite:"+filepath.Join(dir, "other.db")); code != exitBadInput {
		t.Errorf("a policy that does not fit: exit %d, want %d\n%s", code, exitBadInput, out)
	}
	// A grant that cannot be made as asked, refused before anything is sent.
	t.Setenv("STEWARD_HOME", dir)
	t.Setenv("AZURE_STORAGE_KEY", "a2V5")
	for _, bad := range [][]string{{"--container", "Bad_Name"}, {"--client-ip", "not-an-address"}, {"--permissions", "rcwz"}} {
		args := append([]string{"transfer", "grant", "--account", "acme", "--container", "handover", "--client-ip", "203.0.113.7", "--duration", "1h",
			"--endpoint", fmt.Sprintf("https://127.0.0.1:%d/acme", closedPort(t))}, bad...)
		if code, out := stewardExit(t, args...); code != exitBadInput {
			t.Errorf("steward %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitBadInput, out)
		}
	}
	// (The same grant asked well of a storage service that does not answer exits 3, after the
	// Azure SDK's retries: 90 s, too long for the suite.)
	// An unknown flag, on each command there is.
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Name() != "help" {
			path := strings.Fields(c.CommandPath())[1:]
			code, out := stewardExit(t, append(path, "--no-such-flag")...)
			if code != exitBadInput || !strings.Contains(out, "unknown flag: --no-such-flag") {
				t.Errorf("steward %s --no-such-flag: exit %d, want %d\n%s", strings.Join(path, " "), code, exitBadInput, out)
			}
			n++
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
	if n < 40 {
		t.Errorf("only %d commands walked", n)
	}
}

// A database server that does not answer exits 3, told apart from wrong input (2) and failed
// checks (1): before, verify said 2 and every other command 1.
func TestUnreachableDatabaseExits3(t *testing.T) {
	port := closedPort(t)
	pol := filepath.Join("..", "..", "internal", "demo", "policy.yaml")
	pg := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/steward", port)
	my := fmt.Sprintf("mysql://root@127.0.0.1:%d/test", port)
	for _, args := range [][]string{
		{"deid", "check", "--policy", pol, "--source", pg},
		{"deid", "check", "--policy", pol, "--source", my},
		{"deid", "verify", "--policy", pol, "--source", pg, "--target", pg + "_deid"},
		{"deid", "run", "--policy", pol, "--source", my, "--target", my + "_deid", "--unkeyed"},
		{"admin", "users", "--db", pg},
		{"audit", "verify", "--db", pg},
		{"deid", "check", "--policy", pol, "--source", "postgres://postgres@steward-test.invalid:5432/x"}, // no such host
	} {
		if code, out := stewardExit(t, args...); code != exitUnreachable {
			t.Errorf("steward %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitUnreachable, out)
		}
	}
}

// The table is printed by `steward help exit-codes` and repeated in the README, code by code.
func TestExitCodesTable(t *testing.T) {
	code, out := stewardExit(t, "help", "exit-codes")
	if code != 0 {
		t.Fatalf("help exit-codes: exit %d\n%s", code, out)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range exitCodes {
		if !strings.Contains(out, fmt.Sprintf("%3d  %s", c.Code, c.Meaning)) {
			t.Errorf("help exit-codes does not print %d", c.Code)
		}
		if !strings.Contains(string(readme), fmt.Sprintf("| `%d` | ", c.Code)) {
			t.Errorf("the README's table has no row for %d", c.Code)
		}
	}
	if code, out := stewardExit(t, "help"); code != 0 || !strings.Contains(out, "exit-codes") {
		t.Errorf("steward help does not list the exit-codes topic:\n%s", out)
	}
}

// Interrupted (Ctrl-C or SIGTERM cancel the command's context): 130, whatever the command
// was doing.
func TestInterruptedExits130(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
	db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if code := execute(ctx, newRoot(), []string{"deid", "scan", "--source", "sqlite:" + filepath.Join(dir, "x.db")}, &out, &out); code != exitInterrupted {
		t.Errorf("an interrupted scan: exit %d, want %d\n%s", code, exitInterrupted, out.String())
	}
}
