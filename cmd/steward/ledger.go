package main

import (
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/transfer"
)

// ledger is the command line's grant records and its one audit writer: every command that
// writes to the command line's audit log does so through it, as the one acting person the
// command line knows (cliPrincipal, "cli:" and the OS user name).
func ledger() transfer.Ledger {
	return transfer.Ledger{Dir: grantsDir(), Log: audit.FileStore{Path: auditLogPath()}, Actor: cliPrincipal().User}
}
