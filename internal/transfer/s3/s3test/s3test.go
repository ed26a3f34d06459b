// Package s3test starts s3rver, an S3-compatible server from the npm registry, on loopback for
// tests: a fresh directory, a random free port, HTTPS with the certificate of tlstest (which
// only the returned HTTP client, or SSL_CERT_FILE, trusts), and one bucket.
//
// s3rver is found at $STEWARD_S3RVER (the package's directory) or under
// ~/.cache/steward/s3rver (installed by `npm install --prefix ~/.cache/steward/s3rver
// @20minutes/s3rver@Version`, as .ci/run does). Without it New skips the test, unless CI=true.
//
// What this s3rver does and does not check (see REFERENCE.md): it verifies Signature V4 of
// header-signed and presigned requests and the presigned expiry; it implements
// CreateMultipartUpload, UploadPart and CompleteMultipartUpload, but not ListParts or
// AbortMultipartUpload (405 MethodNotAllowed); it has no bucket policies, and accepts
// unsigned (anonymous) requests.
package s3test

import (
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

	"crypto/tls"

	"github.com/stewardhealth/steward/internal/transfer/tlstest"
)

// Version is the @20minutes/s3rver release .ci/run installs (a maintained fork of s3rver
// that verifies Signature V4; s3rver 3.7.1 accepts any V4 signature).
const Version = "4.0.4"

// s3rver's built-in account.
const (
	AccessKey = "S3RVER"
	SecretKey = "S3RVER"
	Region    = "us-east-1"
	Bucket    = "handover"
)

// Server is a running s3rver.
type Server struct {
	Endpoint string       // https://127.0.0.1:PORT
	Client   *http.Client // trusts the server's certificate
	CertFile string       // for processes that trust it through SSL_CERT_FILE
	Dir      string       // where the objects are stored
	cmd      *exec.Cmd
	done     chan struct{}
}

// Find returns s3rver's package directory, or an error saying how to install it.
func Find() (string, error) {
	if p := os.Getenv("STEWARD_S3RVER"); p != "" {
		if _, err := os.Stat(filepath.Join(p, "lib", "s3rver.js")); err != nil {
			return "", fmt.Errorf("STEWARD_S3RVER: %w", err)
		}
		return p, nil
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "steward", "s3rver", "node_modules", "@20minutes", "s3rver")
		if _, err := os.Stat(filepath.Join(p, "lib", "s3rver.js")); err == nil {
			return p, nil
		}
	}
	return "", errors.New("s3rver not found: set STEWARD_S3RVER or run `npm install --prefix ~/.cache/steward/s3rver @20minutes/s3rver@" + Version + "`")
}

// New starts s3rver for one test and stops it when the test ends. It skips the test when
// s3rver is not installed, and fails it under CI=true.
func New(t testing.TB) *Server {
	t.Helper()
	if _, err := Find(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// launcher runs s3rver from its package (the package ships no command) with one bucket.
const launcher = `const fs = require("fs"); const S3rver = require(process.argv[1]);
new S3rver({address: "127.0.0.1", port: +process.argv[2], directory: process.argv[3], silent: true,
  key: fs.readFileSync(process.argv[4]), cert: fs.readFileSync(process.argv[5]), vhostBuckets: false,
  configureBuckets: [{name: process.argv[6], configs: []}]}).run().then(() => console.log("ready"), e => { console.error(e); process.exit(1); });`

// Start starts s3rver storing into dir; Stop ends it.
func Start(dir string) (*Server, error) {
	pkg, err := Find()
	if err != nil {
		return nil, err
	}
	certFile, keyFile, pool, err := tlstest.Cert()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	s := &Server{Endpoint: fmt.Sprintf("https://127.0.0.1:%d", port), CertFile: certFile, Dir: data, done: make(chan struct{}),
		Client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 16}}}
	s.cmd = exec.Command("node", "-e", launcher, pkg, strconv.Itoa(port), data, keyFile, certFile, Bucket)
	logPath := filepath.Join(dir, "s3rver.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start s3rver: %w", err)
	}
	go func() { s.cmd.Wait(); log.Close(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("s3rver exited: %s", out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("s3rver did not listen within 30s")
		}
	}
}

// Stop ends s3rver and waits for it.
func (s *Server) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
