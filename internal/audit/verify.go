package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Verifier checks a log. With Key, every keyed entry's HMAC is checked; without it, a log
// holding keyed entries is refused (they cannot be checked). Every checkpoint must be
// signed by the key (Public when there is no Key), and the log must still hold each
// checkpoint's entry unchanged and reach the latest one.
type Verifier struct {
	Key         *Key
	Public      ed25519.PublicKey
	Checkpoints []Checkpoint
}

// Report is what a verification found.
type Report struct {
	Entries int64
	Last    Entry
	Unkeyed int64       // entries from before the log was keyed, checked by plain SHA-256
	Latest  *Checkpoint // the latest checkpoint, which the log holds
}

// TruncatedError says the log ends before an entry a checkpoint vouched for.
type TruncatedError struct {
	Last       int64 // the log's last sequence number (0 when empty)
	Checkpoint Checkpoint
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("audit log cut off at the end: it ends at entry %d, but the checkpoint signed %s vouched for entry %d (entries %d to %d were removed)",
		e.Last, e.Checkpoint.Time.Format(time.RFC3339), e.Checkpoint.Seq, e.Last+1, e.Checkpoint.Seq)
}

// Verify walks the whole log.
func (v Verifier) Verify(ctx context.Context, s Store) (Report, error) {
	pub := v.Public
	if v.Key != nil {
		pub = v.Key.Public()
	}
	want := map[int64]Checkpoint{}
	var latest *Checkpoint
	for i, c := range v.Checkpoints {
		if pub == nil {
			return Report{}, fmt.Errorf("%w: checkpoint %d cannot be checked without the server key", ErrCheckpoint, c.Seq)
		}
		if !c.valid(pub) {
			return Report{}, fmt.Errorf("%w: checkpoint of entry %d (signed %s) is not signed by the server key: forged or altered",
				ErrCheckpoint, c.Seq, c.Time.Format(time.RFC3339))
		}
		want[c.Seq] = c
		if latest == nil || c.Seq > latest.Seq {
			latest = &v.Checkpoints[i]
		}
	}
	var r Report
	w := walker{key: v.Key}
	err := s.Walk(ctx, func(e Entry) error {
		if err := w.step(e); err != nil {
			return err
		}
		if c, ok := want[e.Seq]; ok && c.Hash != e.Hash {
			return &BrokenError{e.Seq, w.n, fmt.Sprintf("it differs from the entry the checkpoint signed %s vouched for: the log was rewritten", c.Time.Format(time.RFC3339))}
		}
		return nil
	})
	r.Entries, r.Last, r.Unkeyed = w.n, w.last, w.unkeyed
	if err != nil {
		return r, err
	}
	if v.Key != nil && w.n > 0 && w.last.Key == "" {
		return r, &BrokenError{w.last.Seq, w.n, "the last entry is not keyed, but the server keys every entry: the log was rewritten without the server key"}
	}
	if latest != nil {
		if w.last.Seq < latest.Seq {
			return r, &TruncatedError{Last: w.last.Seq, Checkpoint: *latest}
		}
		r.Latest = latest
	}
	return r, nil
}

// walker checks entries one after another.
type walker struct {
	key     *Key
	n       int64 // entries seen
	last    Entry
	keyed   bool // a keyed entry was seen
	unkeyed int64
	from    *Entry // for a walk that starts after the log's beginning: the entry before it
}

func (w *walker) step(e Entry) error {
	w.n++
	pos := w.n
	expect := w.n
	var prev *Entry
	if w.from != nil {
		expect = w.from.Seq + w.n - 1
		if w.n == 1 {
			// A walk from a checkpoint starts at its entry: it must be the one signed.
			if e.Seq != w.from.Seq || e.Hash != w.from.Hash {
				return &BrokenError{e.Seq, pos, "the entry of the last checkpoint is missing or different: the log was rewritten or cut"}
			}
			w.last, w.keyed = e, e.Key != ""
			return nil
		}
		prev = &w.last
	} else if w.n > 1 {
		prev = &w.last
	}
	switch {
	case e.Key == "" && w.keyed:
		return &BrokenError{e.Seq, pos, "an unkeyed entry follows keyed ones: it was written without the server key"}
	case e.Key == "" && e.Hash != e.digest():
		return &BrokenError{e.Seq, pos, "the entry was changed after it was written (its hash does not match its content)"}
	case e.Key != "" && w.key == nil:
		return fmt.Errorf("audit log: entry %d is keyed (key %s): give the server key to check it", e.Seq, e.Key)
	case e.Key != "" && e.Key != w.key.ID:
		return &BrokenError{e.Seq, pos, fmt.Sprintf("the entry is keyed with key %s, not the server's %s", e.Key, w.key.ID)}
	case e.Key != "" && e.Hash != w.key.macOf(e):
		return &BrokenError{e.Seq, pos, "the entry was changed after it was written (its keyed hash does not match its content)"}
	case e.Seq != expect:
		return &BrokenError{e.Seq, pos, fmt.Sprintf("expected sequence number %d: an entry before it was deleted or moved", expect)}
	case prev == nil && e.Prev != "":
		return &BrokenError{e.Seq, pos, "the first entry points to an earlier one: the log's beginning was removed"}
	case prev != nil && e.Prev != prev.Hash:
		return &BrokenError{e.Seq, pos, "it does not follow the entry before it: entries were deleted, moved or inserted"}
	}
	if e.Key == "" {
		w.unkeyed++
	}
	w.keyed = w.keyed || e.Key != ""
	w.last = e
	return nil
}

func (c Checkpoint) valid(pub ed25519.PublicKey) bool {
	sig, err := hex.DecodeString(c.Signature)
	return err == nil && ed25519.Verify(pub, c.message(), sig)
}

// FromWalker is a Store that can walk from a sequence number on, so that a checkpoint needs
// to read only what was appended since the one before.
type FromWalker interface {
	WalkFrom(ctx context.Context, seq int64, fn func(Entry) error) error
}

// CheckpointFile keeps checkpoints as JSON lines in a file beside the store, appended under
// an exclusive lock and synced.
type CheckpointFile struct{ Path string }

// Read returns every checkpoint in the file; a missing file holds none.
func (f CheckpointFile) Read() ([]Checkpoint, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	var out []Checkpoint
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("audit checkpoints %s:%d: not a checkpoint: %w", f.Path, line, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Append adds a checkpoint to the file.
func (f CheckpointFile) Append(c Checkpoint) error {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("audit checkpoints: %w", err)
	}
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit checkpoints: %w", err)
	}
	defer file.Close()
	if err := lockFile(file); err != nil {
		return fmt.Errorf("audit checkpoints %s: lock: %w", f.Path, err)
	}
	b, _ := json.Marshal(c)
	if _, err := file.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit checkpoints %s: %w", f.Path, err)
	}
	return file.Sync()
}

// Checkpointer writes the server's checkpoints.
type Checkpointer struct {
	Store  Store
	Key    *Key
	File   CheckpointFile
	Signer string // e.g. "steward serve"
}

// Checkpoint verifies what was appended since the latest checkpoint (the whole log the
// first time) and, when there is something new, signs a checkpoint of the last entry and
// appends it to the file. A log that no longer holds the latest checkpoint's entry, or is
// broken since, is returned as the error and not checkpointed.
func (c *Checkpointer) Checkpoint(ctx context.Context) (Checkpoint, bool, error) {
	cps, err := c.File.Read()
	if err != nil {
		return Checkpoint{}, false, err
	}
	var latest *Checkpoint
	for i := range cps {
		if !cps[i].valid(c.Key.Public()) {
			return Checkpoint{}, false, fmt.Errorf("%w: %s holds a checkpoint (entry %d) not signed by the server key", ErrCheckpoint, c.File.Path, cps[i].Seq)
		}
		if latest == nil || cps[i].Seq > latest.Seq {
			latest = &cps[i]
		}
	}
	w := walker{key: c.Key}
	fw, incremental := c.Store.(FromWalker)
	switch {
	case latest != nil && incremental:
		w.from = &Entry{Seq: latest.Seq, Hash: latest.Hash}
		err = fw.WalkFrom(ctx, latest.Seq, w.step)
		if err == nil && w.n == 0 {
			err = &TruncatedError{Checkpoint: *latest}
		}
	default:
		err = c.Store.Walk(ctx, w.step)
		if err == nil && latest != nil && w.last.Seq < latest.Seq {
			err = &TruncatedError{Last: w.last.Seq, Checkpoint: *latest}
		}
	}
	if err != nil {
		return Checkpoint{}, false, err
	}
	if w.last.Seq == 0 || latest != nil && w.last.Seq == latest.Seq {
		return Checkpoint{}, false, nil
	}
	cp := Sign(w.last, c.Signer, c.Key.sign)
	return cp, true, c.File.Append(cp)
}

// Run writes a checkpoint every interval until ctx ends, and a last one then (within 10
// seconds), reporting failures to onErr.
func (c *Checkpointer) Run(ctx context.Context, every time.Duration, onErr func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if _, _, err := c.Checkpoint(final); err != nil {
				onErr(err)
			}
			cancel()
			return
		case <-t.C:
			if _, _, err := c.Checkpoint(ctx); err != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}

// Latest returns the checkpoint of the highest entry among cps, or nil.
func Latest(cps []Checkpoint) *Checkpoint {
	if len(cps) == 0 {
		return nil
	}
	c := slices.MaxFunc(cps, func(a, b Checkpoint) int { return int(a.Seq - b.Seq) })
	return &c
}

// Unwrap makes a truncation a checkpoint that does not hold.
func (e *TruncatedError) Unwrap() error { return ErrCheckpoint }
