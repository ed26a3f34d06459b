// Package audit keeps Steward's append-only, hash-chained log of who did what.
//
// Every entry carries the hash of the entry before it, and its own hash covers every field
// of its own, that previous hash included. Editing an entry changes its hash; deleting or
// reordering entries breaks the chain at the entry that follows; a Verifier walks the log
// and names the first entry where either happens.
//
// The server's log is keyed: an entry's hash is an HMAC-SHA256 under the server's Key, a
// secret held in a file of its own and never in the store, so whoever can write the store
// cannot rewrite an entry and recompute the hashes that follow. Cutting entries off the
// end leaves a valid, shorter chain; what proves nothing was cut is a Checkpoint — the last
// sequence number and hash, signed with an Ed25519 key derived from the same secret — which
// the server's Checkpointer writes by itself, periodically and when it stops, to a file
// beside the store (CheckpointFile). A Verifier given the key and that file catches an
// edit, a deletion, a reorder and a truncated tail with no manual step; entries written
// after the last checkpoint are what a truncation can still remove unseen. Entries from
// before the log was keyed (an older store) stay checked by their plain SHA-256; an
// unkeyed entry after a keyed one is a forgery.
//
// Entries hold who acted, what they did, on which object, from where, and short details:
// identifiers of users, projects, grants and files, never values from a patient database.
//
// Where entries are kept is a Store: a JSON-lines file (FileStore) for the command line, or
// the application database for the server. A store appends under its own lock or
// transaction, calling Chain (or Key.Chain) with the entry it found last.
package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Entry is one line of the log. Seq, Prev and Hash are set by Chain.
type Entry struct {
	Seq    int64             `json:"seq"`
	Time   time.Time         `json:"time"`
	Actor  string            `json:"actor"`
	Action string            `json:"action"`
	Object string            `json:"object,omitempty"`
	Source string            `json:"source,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
	Key    string            `json:"key,omitempty"` // the id of the Key whose HMAC the hash is; "" for plain SHA-256
	Prev   string            `json:"prev"`
	Hash   string            `json:"hash"`
}

// Store keeps entries in order.
type Store interface {
	// Append chains e after the last entry (by calling Chain under the store's own lock or
	// transaction, so concurrent writers never fork the chain) and returns it as stored.
	Append(ctx context.Context, e Entry) (Entry, error)
	// Walk calls fn for every entry in the order they were stored.
	Walk(ctx context.Context, fn func(Entry) error) error
}

// Chain completes e as the entry that follows last (nil for the first entry): it sets the
// sequence number, the previous hash, the time if unset (UTC, to the microsecond, as
// databases keep it) and e's own hash.
func Chain(last *Entry, e Entry) Entry {
	e = link(last, e)
	e.Key = ""
	e.Hash = e.digest()
	return e
}

// link sets the sequence number, the previous hash and the time.
func link(last *Entry, e Entry) Entry {
	e.Seq, e.Prev = 1, ""
	if last != nil {
		e.Seq, e.Prev = last.Seq+1, last.Hash
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	return e
}

// canonical is the entry's JSON with the hash field empty. encoding/json writes struct
// fields in declaration order and map keys sorted, so the bytes are canonical; an unkeyed
// entry's bytes are what they were before keys existed (the key field is left out).
func (e Entry) canonical() []byte {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil { // only strings, integers and a time: cannot fail
		panic(err)
	}
	return b
}

// digest is the SHA-256 of the canonical bytes: the hash of an unkeyed entry.
func (e Entry) digest() string {
	sum := sha256.Sum256(e.canonical())
	return hex.EncodeToString(sum[:])
}

// BrokenError names the first entry where the chain does not hold.
type BrokenError struct {
	Seq    int64 // the sequence number found at the broken position
	Index  int64 // its position in the log, counting from 1
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit log broken at entry %d (seq %d): %s", e.Index, e.Seq, e.Reason)
}

// Verify walks the whole log and returns the number of entries and the last one, or a
// *BrokenError naming the first entry that was edited, or follows a deleted or moved one.
// It checks plain hashes only and refuses a log with keyed entries: use a Verifier with the
// key for those.
func Verify(ctx context.Context, s Store) (n int64, last Entry, err error) {
	r, err := Verifier{}.Verify(ctx, s)
	return r.Entries, r.Last, err
}

// Checkpoint vouches for the log up to an entry.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Signer    string    `json:"signer"`
	Signature string    `json:"signature"` // Ed25519 over the checkpoint's JSON without it, hex
}

func (c Checkpoint) message() []byte {
	c.Signature = ""
	b, _ := json.Marshal(c)
	return b
}

// Sign makes a checkpoint for the last entry of a verified log.
func Sign(last Entry, signer string, key ed25519.PrivateKey) Checkpoint {
	c := Checkpoint{Seq: last.Seq, Hash: last.Hash, Time: time.Now().UTC().Truncate(time.Second), Signer: signer}
	c.Signature = hex.EncodeToString(ed25519.Sign(key, c.message()))
	return c
}

// ErrCheckpoint means a checkpoint does not match the log or was not signed by the key.
var ErrCheckpoint = errors.New("checkpoint does not hold")

// CheckCheckpoint verifies the log (with the server key, when it is keyed), the checkpoint's
// signature by pub, and that the log still holds the checkpoint's entry unchanged.
func CheckCheckpoint(ctx context.Context, s Store, c Checkpoint, pub ed25519.PublicKey, key *Key) error {
	if !c.valid(pub) {
		return fmt.Errorf("%w: the signature is not the given key's", ErrCheckpoint)
	}
	r, err := Verifier{Key: key}.Verify(ctx, s)
	if err != nil {
		return err
	}
	var found bool
	err = s.Walk(ctx, func(e Entry) error {
		if e.Seq == c.Seq {
			found = e.Hash == c.Hash
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		if r.Last.Seq < c.Seq {
			return &TruncatedError{Last: r.Last.Seq, Checkpoint: c}
		}
		return fmt.Errorf("%w: entry %d is different: the log was rewritten after the checkpoint", ErrCheckpoint, c.Seq)
	}
	return nil
}
