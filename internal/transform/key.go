// Package transform turns original values into de-identified ones, one rule at a time.
//
// Every rule is a pure function of the value (and, for shift_date, of the row's entity) and
// the secret key: within one key, equal inputs give equal outputs in every table, every
// database and every run, with no stored state. That is what keeps joins and foreign keys
// intact, and what lets tables be processed in parallel.
//
// The key is used only as an HMAC-SHA256 key. Derivations that are not the published hash of
// a value (date offsets, address placeholders, integer permutations) use their own labels,
// so one output never reveals another. Without a key (Unkeyed) the hash is plain SHA-256, as
// the hand-written scripts Steward replaces do; that is weak, because an identifier with few
// possible values — an SSN, an MRN — is recovered from its unkeyed hash by trying them all.
package transform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"hash/maphash"
	"log/slog"
)

// Key is the secret every keyed rule derives from. Its bytes are never printed or logged.
type Key struct {
	secret  []byte
	unkeyed bool
}

// MinKeyLen is the shortest key accepted, in bytes.
const MinKeyLen = 16

// NewKey makes a key from secret bytes (at least MinKeyLen).
func NewKey(secret []byte) (Key, error) {
	if len(secret) < MinKeyLen {
		return Key{}, errors.New("the key is too short: use at least 16 random bytes, e.g. `openssl rand -hex 32 > steward.key`")
	}
	return Key{secret: append([]byte(nil), secret...)}, nil
}

// Unkeyed is plain SHA-256: reproducible by anyone, and so open to brute force.
func Unkeyed() Key { return Key{unkeyed: true} }

// IsUnkeyed reports whether the key is Unkeyed.
func (k Key) IsUnkeyed() bool { return k.unkeyed }

// Fingerprint identifies the key without revealing it, for reports and resumable runs.
func (k Key) Fingerprint() string {
	if k.unkeyed {
		return "unkeyed"
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("steward key fingerprint"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// String names the key by its fingerprint only.
func (k Key) String() string { return "key " + k.Fingerprint() }

// LogValue keeps the key's bytes out of structured logs.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Hasher computes digests with a reused HMAC state. It is not safe for concurrent use: give
// each goroutine its own.
//
// It remembers the digests of the last short texts it hashed (a direct-mapped cache of 1024
// entries, 64 KiB): a row's names and MRN are hashed for their columns, then again where its
// note mentions them, and names repeat from row to row.
type Hasher struct {
	mac  hash.Hash
	buf  []byte
	sum  []byte
	seed maphash.Seed
	memo *[memoSlots]memoEntry

	deferCounts bool           // see DeferCounts
	counts      []pendingCount // what Flush adds to the collision counters

	recentIn *Dictionary                // the dictionary recent is about
	recent   *[recentSlots]recentLookup // its last lookups (see find)
	fetched  uint64                     // what find's reads ahead read, so that they are not left out

	outputs []byte // nil, or the block hashes are written into (see ShareOutputs)
}

const outputBlock = 4 << 10

// ShareOutputs makes the hash rules' outputs strings that share 4 KiB blocks, one
// allocation a block instead of one an output. A block's bytes are never written again once
// a string points to them, so the strings are as immutable as any; but an output kept keeps
// its block from the collector. For a consumer that lets go of its rows once written.
func (h *Hasher) ShareOutputs() { h.outputs = make([]byte, 0, outputBlock) }

const (
	memoSlots = 1024
	memoText  = 31 // longest text remembered, in bytes
)

type memoEntry struct {
	n    uint8 // length of the text + 1; 0: empty
	text [memoText]byte
	sum  [sha256.Size]byte
}

// NewHasher returns a Hasher for the key.
func (k Key) NewHasher() *Hasher {
	h := &Hasher{buf: make([]byte, 0, 256), sum: make([]byte, 0, sha256.Size), seed: maphash.MakeSeed(), memo: new([memoSlots]memoEntry)}
	if k.unkeyed {
		h.mac = sha256.New()
	} else {
		h.mac = hmac.New(sha256.New, k.secret)
	}
	return h
}

// Sum returns the digest of s. The result is reused by the next call.
func (h *Hasher) Sum(s string) []byte {
	var e *memoEntry
	if len(s) <= memoText {
		e = &h.memo[maphash.String(h.seed, s)&(memoSlots-1)]
		if int(e.n) == len(s)+1 && string(e.text[:len(s)]) == s {
			h.sum = append(h.sum[:0], e.sum[:]...)
			return h.sum
		}
	}
	h.mac.Reset()
	h.buf = append(h.buf[:0], s...)
	h.mac.Write(h.buf)
	h.sum = h.mac.Sum(h.sum[:0])
	if e != nil {
		e.n = uint8(len(s) + 1)
		copy(e.text[:], s)
		copy(e.sum[:], h.sum)
	}
	return h.sum
}

// Derive returns the digest of s under a label, for values that must not equal the
// published hash of s. The result is reused by the next call.
func (h *Hasher) Derive(label, s string) []byte {
	h.mac.Reset()
	h.buf = append(h.buf[:0], 0)
	h.buf = append(h.buf, label...)
	h.buf = append(h.buf, 0)
	h.buf = append(h.buf, s...)
	h.mac.Write(h.buf)
	h.sum = h.mac.Sum(h.sum[:0])
	return h.sum
}
