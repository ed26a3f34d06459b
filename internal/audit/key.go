package audit

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Key is the server's audit key: a 32-byte secret the server holds in a file of its own,
// never in the store, from which are derived the key of the chain's HMAC, the Ed25519 key
// that signs checkpoints, and keys for other purposes (Derive). Whoever can write the
// store but does not hold the key cannot make a keyed entry the key verifies, so an edit
// with every following hash recomputed is caught.
type Key struct {
	ID   string // the key's fingerprint: the first 8 bytes of the SHA-256 of its public key, hex
	mac  []byte
	sign ed25519.PrivateKey
	root []byte
}

// NewKey derives the audit key from a 32-byte secret.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("audit key: want 32 bytes, got %d", len(secret))
	}
	k := &Key{root: append([]byte(nil), secret...)}
	k.mac = k.Derive("steward audit chain v1")
	k.sign = ed25519.NewKeyFromSeed(k.Derive("steward audit checkpoint v1"))
	sum := sha256.Sum256(k.Public())
	k.ID = hex.EncodeToString(sum[:8])
	return k, nil
}

// Derive returns a 32-byte key for purpose, independent of the others derived from the secret.
func (k *Key) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.root)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Public is the key that checks checkpoints: it may be given to anyone.
func (k *Key) Public() ed25519.PublicKey { return k.sign.Public().(ed25519.PublicKey) }

// LoadKeyFile reads the secret from path (64 hex digits). With create set, a missing file is
// made with a fresh random secret, owner-only.
func LoadKeyFile(path string, create bool) (*Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		secret := make([]byte, 32)
		rand.Read(secret)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("server key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("server key: %w", err)
		}
		_, err = f.WriteString(hex.EncodeToString(secret) + "\n")
		if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
			return nil, fmt.Errorf("server key %s: %w", path, err)
		}
		return NewKey(secret)
	}
	if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) != 32 {
		return nil, fmt.Errorf("server key %s: want 64 hex digits", path)
	}
	return NewKey(secret)
}

// mac is the entry's keyed hash.
func (k *Key) macOf(e Entry) string {
	e.Hash = ""
	m := hmac.New(sha256.New, k.mac)
	m.Write(e.canonical())
	return hex.EncodeToString(m.Sum(nil))
}

// Chain is audit.Chain for a keyed log: the entry carries the key's id and its hash is the
// HMAC-SHA256, under the key, of the same canonical bytes.
func (k *Key) Chain(last *Entry, e Entry) Entry {
	if k == nil {
		return Chain(last, e)
	}
	e = link(last, e)
	e.Key = k.ID
	e.Hash = k.macOf(e)
	return e
}
