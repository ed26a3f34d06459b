// Package azuritetest starts Azurite, Microsoft's Blob Storage emulator, on loopback for tests
// and benchmarks: a fresh workspace, a random free port, and HTTPS with a self-signed
// certificate for 127.0.0.1 that only the returned HTTP client trusts.
//
// Azurite is found at $STEWARD_AZURITE (the azurite-blob script) or under
// ~/.cache/steward/azurite (installed by `npm install --prefix ~/.cache/steward/azurite
// azurite@Version`, as .ci/run does). Without it New skips the test, unless CI=true.
//
// Azurite's quirks the tests rely on or work around: it checks a SAS's signature, expiry, start,
// stored access policy, protocol and permissions, but answers a revoked (policy deleted),
// expired, altered or wrongly signed token alike — 403 AuthorizationFailure, no
// AuthenticationErrorDetail — where Azure says AuthenticationFailed with a detail; it does not
// check sip; it accepts more than 5 policies; it lets the policy win when a field is in both;
// it needs --skipApiVersionCheck with recent SDKs.
package azuritetest

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/tlstest"
)

// Version is the Azurite release .ci/run installs.
const Version = "3.35.0"

// The emulator's well-known development account (public, documented by Microsoft).
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Server is a running Azurite.
type Server struct {
	// Endpoint is the account's path-style endpoint, e.g. https://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
	// Client trusts the server's certificate (a plain client for HTTP).
	Client *http.Client
	// CertFile is the PEM certificate, for processes that trust it through SSL_CERT_FILE;
	// KeyFile its key (for a test server that poses as Azurite).
	CertFile, KeyFile string
	cmd               *exec.Cmd
	done              chan struct{}
}

// Options choose how Azurite serves.
type Options struct {
	HTTP bool   // plain HTTP instead of HTTPS
	Dir  string // workspace; a new temporary directory when empty
}

// Find returns the azurite-blob script, or an error saying how to install it.
func Find() (string, error) {
	if p := os.Getenv("STEWARD_AZURITE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("STEWARD_AZURITE: %w", err)
		}
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err == nil {
		p := filepath.Join(dir, "steward", "azurite", "node_modules", ".bin", "azurite-blob")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("azurite not found: set STEWARD_AZURITE or run `npm install --prefix ~/.cache/steward/azurite azurite@" + Version + "`")
}

// New starts Azurite for one test and stops it when the test ends. It skips the test when
// Azurite is not installed, and fails it under CI=true.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if _, err := Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start starts Azurite; Stop ends it.
func Start(o Options) (*Server, error) {
	bin, err := Find()
	if err != nil {
		return nil, err
	}
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "azurite-"); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port), "--location", o.Dir,
		"--skipApiVersionCheck", "--disableTelemetry", "--silent"}
	s := &Server{Client: &http.Client{}, done: make(chan struct{})}
	scheme := "http"
	if !o.HTTP {
		scheme = "https"
		certFile, keyFile, pool, err := tlstest.Cert()
		if err != nil {
			return nil, err
		}
		args = append(args, "--cert", certFile, "--key", keyFile)
		s.CertFile, s.KeyFile = certFile, keyFile
		s.Client = &http.Client{Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 64,
		}}
	}
	s.Endpoint = fmt.Sprintf("%s://127.0.0.1:%d/%s", scheme, port, Account)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = o.Dir
	log, err := os.Create(filepath.Join(o.Dir, "azurite.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start azurite: %w", err)
	}
	go func() { s.cmd.Wait(); log.Close(); close(s.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(o.Dir, "azurite.log"))
			return nil, fmt.Errorf("azurite exited: %s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("azurite did not listen within 60s")
		}
	}
}

// Stop ends Azurite and waits for it.
func (s *Server) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Bundle writes files of the given sizes (random content) and their manifest into a new
// directory, as `steward transfer bundle` would.
func Bundle(t testing.TB, sizes map[string]int) string {
	t.Helper()
	dir := t.TempDir()
	m := &transfer.Manifest{Version: 1, Created: time.Now().UTC(), Source: transfer.Source{Kind: "sqlite", Database: "test"}, Format: "test"}
	for name, size := range sizes {
		b := make([]byte, size)
		rand.Read(b)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := transfer.HashFile(path, name)
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, f)
	}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}
