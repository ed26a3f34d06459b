// Package seal holds the warehouse key and seals what the warehouse must not keep in the
// clear: the *_blob columns and the identified data. A sealed value is AES-256-GCM
// ciphertext bound to the place it is stored (table, column, agency and the row's key, as
// additional data), so a value copied to another row or column no longer opens. The key never
// enters the database: it comes from a key file (64 hex digits) or $STEWARD_WAREHOUSE_KEY. The
// same secret also gives the key of the consistent noise (NoiseKey).
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyEnv names the environment variable that may hold the warehouse key (64 hex digits)
// instead of a key file.
const KeyEnv = "STEWARD_WAREHOUSE_KEY"

// Keys are what the warehouse derives from its one secret: the AES-256-GCM key that seals
// blob columns and identified data, and the HMAC key of the consistent noise.
type Keys struct {
	aead  cipher.AEAD
	noise []byte
}

// NewKeys derives the keys from a 32-byte secret.
func NewKeys(secret []byte) (*Keys, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("warehouse key: got %d bytes, want 32", len(secret))
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("steward warehouse " + label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("blob"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{aead: aead, noise: derive("noise")}, nil
}

// DefaultKeyFile is where the key of a SQLite store lives when not told: beside the database
// file, never inside it. A PostgreSQL store needs --key-file or the environment variable.
func DefaultKeyFile(dsn string) string {
	if strings.Contains(dsn, "://") {
		return ""
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	return path + ".warehouse-key"
}

// LoadKeys reads the secret from $STEWARD_WAREHOUSE_KEY or from path (64 hex digits). With
// create set, a missing file is made with a fresh random secret (mode 0600).
func LoadKeys(path string, create bool) (*Keys, error) {
	text := os.Getenv(KeyEnv)
	if text == "" {
		if path == "" {
			return nil, fmt.Errorf("warehouse key: no key file given and %s is unset", KeyEnv)
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && create {
			secret := make([]byte, 32)
			rand.Read(secret)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("warehouse key: %w", err)
			}
			if err := os.WriteFile(path, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("warehouse key: %w", err)
			}
			return NewKeys(secret)
		}
		if err != nil {
			return nil, fmt.Errorf("warehouse key: %w", err)
		}
		text = string(b)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("warehouse key: not 64 hex digits")
	}
	return NewKeys(secret)
}

// NoiseKey is the HMAC key the consistent noise is drawn under.
func (k *Keys) NoiseKey() []byte { return k.noise }

// Seal encrypts plain for the place it is stored (bound as additional data, so a sealed
// value moved to another row or column no longer opens).
func (k *Keys) Seal(plain, place string) string {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(plain), []byte(place)))
}

// Open decrypts what Seal made for the same place.
func (k *Keys) Open(sealed, place string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < k.aead.NonceSize() {
		return "", errors.New("sealed value is malformed")
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, b[:n], b[n:], []byte(place))
	if err != nil {
		return "", errors.New("sealed value does not open with this key")
	}
	return string(plain), nil
}
