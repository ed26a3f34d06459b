// Package tlstest makes the one self-signed certificate for 127.0.0.1 that the test servers
// of the transfer destinations (Azurite, s3rver) serve, so that a process trusting it through
// SSL_CERT_FILE (read once per process) trusts them all.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Cert returns the certificate and key files and a pool trusting the certificate, made once
// per process in a new temporary directory.
func Cert() (certFile, keyFile string, pool *x509.CertPool, err error) {
	certOnce.Do(func() { cert.file, cert.key, cert.pool, cert.err = selfSigned() })
	return cert.file, cert.key, cert.pool, cert.err
}

var (
	certOnce sync.Once
	cert     struct {
		file, key string
		pool      *x509.CertPool
		err       error
	}
)

// selfSigned writes a certificate and key for 127.0.0.1 into a new temporary directory.
func selfSigned() (certFile, keyFile string, pool *x509.CertPool, err error) {
	dir, err := os.MkdirTemp("", "steward-test-cert-")
	if err != nil {
		return "", "", nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "steward-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool, nil
}
