package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
)

// A grant is one upload token (an Azure shared-access token bound to a stored access policy,
// or a set of S3 presigned URLs) and its record. The record holds what is needed to kill the
// token and to prove it dead — never the token itself or the key that signs it.
//
// A grant's life: made (live), then revoked — the token killed at the service and an attempt
// to use it refused — or confirmed (the upload checked against the manifest, then revoked).
// A record is forgotten only once its token is provably dead: Forget refuses a live grant,
// and an expired Azure grant too, since its stored access policy still exists and whoever
// holds the account key can extend it and revive every token minted for it.

// GrantsDir is where, under the command line's state directory, grant records and token
// files live.
const GrantsDir = "grants"

// Kinds of grant.
const (
	KindAzure = "azure"
	KindS3    = "s3"
)

// Record is what every grant's record holds, whatever the destination.
type Record struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind,omitempty"` // KindAzure when empty (records made before kinds)
	Created   time.Time `json:"created"`
	Expiry    time.Time `json:"expiry"`
	Revoked   time.Time `json:"revoked,omitzero"`
	Confirmed time.Time `json:"confirmed,omitzero"`
	Proof     string    `json:"proof,omitempty"` // how the token was shown dead
}

// Header returns the record itself, so that a destination's grant type embedding Record is a
// Grant.
func (r *Record) Header() *Record { return r }

// Grant is a destination's grant record: it embeds Record.
type Grant interface{ Header() *Record }

// State is where a grant is in its life.
type State string

// The states transfer status lists.
const (
	Live      State = "live"
	Revoked   State = "revoked"
	Expired   State = "expired"
	Confirmed State = "confirmed"
)

// KindOrDefault is the record's kind, azure for records made before there were kinds.
func (r Record) KindOrDefault() string {
	if r.Kind == "" {
		return KindAzure
	}
	return r.Kind
}

// State is the grant's state at now.
func (r Record) State(now time.Time) State {
	switch {
	case !r.Confirmed.IsZero() && !r.Revoked.IsZero():
		return Confirmed
	case !r.Revoked.IsZero():
		return Revoked
	case !now.Before(r.Expiry):
		return Expired
	}
	return Live
}

// Dead says whether the grant's token can no longer be used, and if not, why.
func (r Record) Dead(now time.Time) (bool, string) {
	switch r.State(now) {
	case Revoked, Confirmed:
		return true, ""
	case Expired:
		if r.KindOrDefault() == KindS3 {
			return true, "" // the expiry is inside every signed URL: nobody can extend it
		}
		return false, "expired at " + r.Expiry.UTC().Format(time.RFC3339) + ", but its stored access policy is still in the container: whoever holds the account key can extend it and revive the token"
	}
	return false, "live until " + r.Expiry.UTC().Format(time.RFC3339)
}

// Ledger keeps the grant records of one machine and writes the audit entries of their life.
type Ledger struct {
	Dir   string      // the grants directory
	Log   audit.Store // the command line's audit log
	Actor string      // who acts, as the audit log names them
}

// Audit appends one entry to the ledger's log. It is the command line's one audit writer.
func (l Ledger) Audit(ctx context.Context, action, object string, detail map[string]string) error {
	if _, err := l.Log.Append(ctx, audit.Entry{Actor: l.Actor, Action: action, Object: object, Detail: detail}); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

func (l Ledger) path(id string) (string, error) {
	if id == "" || id != filepath.Base(id) || strings.HasPrefix(id, ".") {
		return "", fmt.Errorf("grant id %q: not an id", id)
	}
	return filepath.Join(l.Dir, id+".json"), nil
}

// TokenPath is where a grant's token file goes by default.
func (l Ledger) TokenPath(id string) string { return filepath.Join(l.Dir, id+".sas") }

// Save writes g's record, readable by its owner only, through a temporary file.
func (l Ledger) Save(g Grant) error {
	p, err := l.path(g.Header().ID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return err
	}
	return writeJSON(l.Dir, filepath.Base(p), g, 0o600)
}

// Taken reports whether a record with this id exists (ids are never reused).
func (l Ledger) Taken(id string) bool {
	p, err := l.path(id)
	if err != nil {
		return true
	}
	_, err = os.Stat(p)
	return err == nil
}

// Load reads the record of grant id into g.
func (l Ledger) Load(id string, g Grant) error {
	p, err := l.path(id)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("grant %s: no record in %s", id, l.Dir)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, g); err != nil {
		return fmt.Errorf("grant %s: %s: %w", id, p, err)
	}
	return nil
}

// Records lists every grant record's header, oldest first.
func (l Ledger) Records() ([]Record, error) {
	paths, err := filepath.Glob(filepath.Join(l.Dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var rs []Record
	for _, p := range paths {
		if strings.HasPrefix(filepath.Base(p), ".") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
			return nil, fmt.Errorf("%s: not a grant record", p)
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool {
		return rs[i].Created.Before(rs[j].Created) || rs[i].Created.Equal(rs[j].Created) && rs[i].ID < rs[j].ID
	})
	return rs, nil
}

// Killer kills one grant's token at its service and proves it dead.
type Killer interface {
	// Kill ends the token at the service; it reports whether there was anything to end.
	Kill(ctx context.Context) (existed bool, err error)
	// ProveDead tries the token until the service refuses it, at most for wait, and says
	// how it was refused. An error means the token still works (or the service cannot say).
	ProveDead(ctx context.Context, wait time.Duration) (proof string, err error)
}

// Revocation is what Revoke did.
type Revocation struct {
	Existed bool   // there was something to kill at the service
	Proof   string // how the token was refused afterwards
}

// Revoke kills g's token, proves it dead, and only then marks the record revoked (and
// confirmed, when action is "transfer.confirm") and saves it; the audit entry (action,
// detail and the outcome) is written whatever happened. When the token still works the
// record stays live and the error says so.
func (l Ledger) Revoke(ctx context.Context, g Grant, k Killer, action string, detail map[string]string, wait time.Duration) (Revocation, error) {
	r := g.Header()
	if detail == nil {
		detail = map[string]string{}
	}
	var rev Revocation
	existed, err := k.Kill(ctx)
	if err != nil {
		detail["token"] = "not revoked: " + err.Error()
		return rev, errors.Join(err, l.Audit(ctx, action, "grant:"+r.ID, detail))
	}
	rev.Existed = existed
	proof, perr := k.ProveDead(ctx, wait)
	if perr != nil {
		detail["token"] = "still accepted: " + perr.Error()
		return rev, errors.Join(fmt.Errorf("grant %s: %w", r.ID, perr), l.Audit(ctx, action, "grant:"+r.ID, detail))
	}
	rev.Proof = proof
	r.Revoked = time.Now().UTC()
	if action == "transfer.confirm" {
		r.Confirmed = r.Revoked
	}
	r.Proof = proof
	detail["token"] = "refused: " + proof
	return rev, errors.Join(l.Save(g), l.Audit(ctx, action, "grant:"+r.ID, detail))
}

// LiveError lists grants whose tokens may still work, which Forget refuses to forget.
type LiveError struct{ Grants []Record }

func (e *LiveError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d grant(s) may still be used, so their records are kept:", len(e.Grants))
	now := time.Now()
	for _, r := range e.Grants {
		_, why := r.Dead(now)
		fmt.Fprintf(&b, "\n  %s (%s): %s", r.ID, r.KindOrDefault(), why)
	}
	b.WriteString("\nrevoke them first (steward transfer revoke --grant ID), or run cleanup with --revoke, which revokes each, proves its token dead, then removes it")
	return b.String()
}

// Forget removes the record and the default token file of grant id, once its token is dead.
func (l Ledger) Forget(id string) error {
	var r Record
	if err := l.Load(id, &r); err != nil {
		return err
	}
	if dead, _ := r.Dead(time.Now()); !dead {
		return &LiveError{Grants: []Record{r}}
	}
	p, _ := l.path(id)
	if err := os.Remove(l.TokenPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Remove(p)
}
