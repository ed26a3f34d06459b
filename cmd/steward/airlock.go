package main

import (
	"path/filepath"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/transfer/local"
)

// airlockService is the server's export requests: released files kept in
// $STEWARD_HOME/exports, links mailed through the server's SMTP settings, pointing at the
// address the server listens on.
func airlockService(s *access.Service, n access.Notifier, addr string, tls bool) *airlock.Service {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return airlock.New(s.DB, s, airlock.Folder{Folder: local.Folder{Dir: filepath.Join(stateDir(), "exports")}}, n, scheme+"://"+addr)
}
