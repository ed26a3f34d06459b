package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"os"
	"path/filepath"
	"strings"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
)

// The server's key is a 32-byte secret in a file of its own beside the application store
// (never in it): the audit log's chain is keyed with it, its checkpoints are signed with a
// key derived from it, and released export files are encrypted under another. For a
// SQLite store at PATH it is PATH.server-key and the checkpoints PATH.audit-checkpoints; for
// PostgreSQL both are in $STEWARD_HOME. STEWARD_SERVER_KEY_FILE and
// STEWARD_AUDIT_CHECKPOINTS name other places (keep the checkpoints where the store's
// administrators cannot write, to make a truncation of the log's tail visible to them too).
const (
	serverKeyEnv   = "STEWARD_SERVER_KEY_FILE"
	checkpointsEnv = "STEWARD_AUDIT_CHECKPOINTS"
)

// besideStore is the path of a file kept beside the store the DSN names.
func besideStore(dsn, suffix, name string) string {
	if strings.Contains(dsn, "://") {
		return filepath.Join(stateDir(), name)
	}
	return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:") + suffix
}

func serverKeyPath(dsn string) string {
	if p := os.Getenv(serverKeyEnv); p != "" {
		return p
	}
	return besideStore(dsn, ".server-key", "server-key")
}

func checkpointPath(dsn string) string {
	if p := os.Getenv(checkpointsEnv); p != "" {
		return p
	}
	return besideStore(dsn, ".audit-checkpoints", "audit-checkpoints.jsonl")
}

// openStore opens the application store with the server's key (made on first use), so that
// every audit entry any command writes is keyed.
func openStore(ctx context.Context, dsn string) (*store.DB, *audit.Key, error) {
	key, err := audit.LoadKeyFile(serverKeyPath(dsn), true)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	db.AuditKey = key
	if err := (store.Audit{DB: db}).EnsureKeyed(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, key, nil
}

// startCheckpoints has the server sign a checkpoint of its audit log now, every interval
// and when ctx ends; a log that no longer holds the last checkpoint is reported to the
// log and the directors.
func startCheckpoints(ctx context.Context, s *access.Service, key *audit.Key, dsn string, every time.Duration) (wait func()) {
	c := &audit.Checkpointer{Store: s.Audit, Key: key, File: audit.CheckpointFile{Path: checkpointPath(dsn)}, Signer: "steward serve"}
	alarm := func(err error) {
		slog.Error("audit checkpoint refused", "err", err)
		s.NotifyDirectors(context.Background(), "steward", "audit.checkpoint_refused", "audit.checkpoint_refused",
			"Steward: the audit log does not verify",
			fmt.Sprintf("The server did not sign a checkpoint of its audit log:\n\n  %v\n\nRun 'steward audit verify --db …' and look for who changed the store.\n", err))
	}
	if _, _, err := c.Checkpoint(ctx); err != nil {
		alarm(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, every, alarm)
	}()
	return func() { <-done }
}
