package main

import (
	"path/filepath"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/transfer/local"
)

// airlockService is the server's export requests: released files kept in
// $STEWARD_HOME/exports, links mailed through the server's SMTP settings, pointing at the
// address the server listens on.
// airlockService builds the export service. Download links in its emails start with
// publicURL, the address people reach the server at (behind a proxy, not --addr); when it is
// empty they start with the listening address.
func airlockService(s *access.Service, n access.Notifier, addr, publicURL string, tls bool) *airlock.Service {
	if publicURL == "" {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		publicURL = scheme + "://" + addr
	}
	return airlock.New(s.DB, s, airlock.Folder{Folder: local.Folder{Dir: filepath.Join(stateDir(), "exports")}}, n, strings.TrimRight(publicURL, "/"))
}
