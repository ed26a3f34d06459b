package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
)

// exportsDir is where released files are kept, beside the store: PATH.exports for a SQLite
// store at PATH, $STEWARD_HOME/exports for PostgreSQL.
func exportsDir(dsn string) string { return besideStore(dsn, ".exports", "exports") }

// exportFiles is the released files' storage: sealed under a key derived from the server key.
func exportFiles(s *access.Service, dsn string) airlock.Sealed {
	return airlock.Sealed{Dir: exportsDir(dsn), Key: s.DB.AuditKey.Derive("steward exports v1")}
}

// airlockService builds the export service: released files sealed beside the store, links
// mailed through the server's SMTP settings. Download links in its emails start with
// publicURL, the address people reach the server at (behind a proxy, not --addr); when it is
// empty they start with the listening address.
func airlockService(s *access.Service, dsn string, n access.Notifier, addr, publicURL string, tls bool) *airlock.Service {
	if publicURL == "" {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		publicURL = scheme + "://" + addr
	}
	return airlock.New(s.DB, s, exportFiles(s, dsn), n, strings.TrimRight(publicURL, "/"))
}

// sweepExports removes released files past their retention, with one audit entry.
func sweepExports(ctx context.Context, s *access.Service, files airlock.Sealed, retention time.Duration) {
	gone, err := files.Sweep(time.Now().Add(-retention))
	if len(gone) > 0 {
		err = errors.Join(err, s.Record(ctx, access.CLI("steward"), "export.files_removed", "exports",
			map[string]string{"files": strings.Join(gone, " "), "retention": retention.String()}))
	}
	if err != nil {
		slog.Error("export retention", "err", err)
	}
}
