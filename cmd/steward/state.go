package main

import (
	"os"
	"path/filepath"
)

// stateDir is where the command line keeps what it records between runs (grants, the audit
// log): $STEWARD_HOME, else $XDG_STATE_HOME/steward, else ~/.local/state/steward.
func stateDir() string {
	if d := os.Getenv("STEWARD_HOME"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "steward")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".steward"
	}
	return filepath.Join(home, ".local", "state", "steward")
}

// auditLogPath is the command line's audit log.
func auditLogPath() string { return filepath.Join(stateDir(), "audit.jsonl") }
