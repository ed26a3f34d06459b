package database

import (
	"context"
	"errors"
	"time"
)

// LedgerTable is the table in which an in-place run records, inside the database it
// rewrites, the tables it has rewritten. Schema never lists it.
const LedgerTable = "steward_progress"

// Run is an in-place run as the ledger records it.
type Run struct {
	// ID is derived from what decides the run's output: PolicyDigest and KeyFingerprint.
	ID             string
	KeyFingerprint string
	PolicyDigest   string    // of Policy
	Policy         string    // the policy's rule for every column of the database, normalised
	Tables         int       // how many tables the run rewrites in all
	Started        time.Time // when the process that recorded the row began its work
}

// Progress is one row of the ledger: a table a run has rewritten.
type Progress struct {
	Run
	Table   string
	Done    time.Time
	Cleared bool // what the rewrite left of the original values in the database's own files is gone (Rewriter.ClearResidue)
}

// ErrOldLedger is what Ledger returns for a ledger written by an earlier version of Steward,
// which did not record the run's key and policy.
var ErrOldLedger = errors.New("the ledger " + LedgerTable + " in this database was written by an earlier version of Steward, which did not record the run's key and policy, so this version cannot tell whether it is the same run: finish it with that version, or start again from a fresh copy of the original database")

// RewriteGroup is one group of tables for Rewriter.Rewrite to rewrite.
type RewriteGroup struct {
	Run    Run
	Tables []*Table
	// Check is given the whole ledger as it stands once Rewrite holds the database's rewrite
	// lock — no other run can be rewriting it meanwhile, and whatever the transaction of a
	// killed run was doing has been committed or rolled back — before anything is staged.
	// When it returns skip, Rewrite changes nothing; when it fails, Rewrite fails with its
	// error.
	Check func(ledger []Progress) (skip bool, err error)
	// Fill writes the new rows of a table to w; it reads the original rows with Scan, which
	// stays usable while Rewrite runs.
	Fill func(ctx context.Context, t *Table, w RowWriter) error
}
