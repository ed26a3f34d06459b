package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/stewardhealth/steward/internal/database"
)

// BundleOptions says what to back up and where.
type BundleOptions struct {
	Source string // DSN of the de-identified copy
	Out    string // the bundle directory to create; it must not exist
	// Recipients, when not empty, encrypt every file to these age public keys as it is
	// written: the manifest then lists the encrypted files (name.age).
	Recipients []age.Recipient
	// Snapshot, for PostgreSQL, is a snapshot exported by an open transaction
	// (pg_export_snapshot()): the dump then shows the database exactly as that transaction does.
	Snapshot string
	// Progress, when not nil, follows the bytes each file is written with.
	Progress Progress
}

// Bundle backs up the database opts.Source names in its own format — pg_dump's custom format
// for PostgreSQL, mariadb-dump/mysqldump for MySQL, VACUUM INTO for SQLite — into opts.Out,
// with a manifest of every file's size and SHA-256. Dumps stream to disk (through the age
// encryption when asked), never held in memory. The bundle is written into a hidden
// directory beside opts.Out and renamed into place at the end, so opts.Out either holds a
// complete bundle or does not exist: a failure removes everything written.
func Bundle(ctx context.Context, opts BundleOptions) (*Manifest, error) {
	dsn, err := database.ParseDSN(opts.Source)
	if err != nil {
		return nil, err
	}
	out := filepath.Clean(opts.Out)
	if _, err := os.Lstat(out); err == nil {
		return nil, fmt.Errorf("bundle directory %s already exists: choose another --out or remove it", out)
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("create the bundle's temporary directory: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	m := &Manifest{Version: 1, Created: time.Now().UTC().Truncate(time.Second), Source: Source{Kind: string(dsn.Kind)}}
	w := &bundleWriter{dir: tmp, recipients: opts.Recipients, progress: opts.Progress}
	if w.progress == nil {
		w.progress = NoProgress{}
	}
	switch dsn.Kind {
	case database.Postgres:
		err = dumpPostgres(ctx, dsn, opts.Snapshot, m, w)
	case database.MySQL:
		err = dumpMySQL(ctx, dsn, m, w)
	case database.SQLite:
		err = vacuumSQLite(ctx, dsn, m, w)
	default:
		err = fmt.Errorf("no bundle format for %s databases", dsn.Kind)
	}
	if err != nil {
		return nil, err
	}
	m.Files = w.files
	if len(opts.Recipients) > 0 {
		m.Encrypted = "age"
	}
	if err := m.Write(tmp); err != nil {
		return nil, fmt.Errorf("write the manifest: %w", err)
	}
	if err := os.Chmod(filepath.Join(tmp, ManifestName), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("move the finished bundle to %s: %w", out, err)
	}
	done = true
	return m, nil
}

// bundleWriter writes a bundle's files, each hashed (and encrypted when asked) as it streams.
type bundleWriter struct {
	dir        string
	recipients []age.Recipient
	files      []File
	progress   Progress
}

// create writes one file named name (name.age when encrypting) with what fill writes to w.
func (b *bundleWriter) create(name string, fill func(w io.Writer) error) (err error) {
	if len(b.recipients) > 0 {
		name += ".age"
	}
	path := filepath.Join(b.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	fp := b.progress.File(name, 0, 0)
	cw := &countWriter{w: io.MultiWriter(f, h), fp: fp}
	defer func() { fp.Done(err) }()
	var w io.Writer = cw
	var enc io.WriteCloser
	if len(b.recipients) > 0 {
		if enc, err = age.Encrypt(cw, b.recipients...); err != nil {
			return fmt.Errorf("encrypt %s: %w", name, err)
		}
		w = enc
	}
	if err := fill(w); err != nil {
		return err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return fmt.Errorf("encrypt %s: %w", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	b.files = append(b.files, File{Name: name, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

type countWriter struct {
	w  io.Writer
	n  int64
	fp FileProgress
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.fp.Add(int64(n))
	return n, err
}

// ParseRecipients reads age recipients: one public key (age1…), or a file of them, one a
// line, # comments allowed.
func ParseRecipients(s string) ([]age.Recipient, error) {
	if strings.HasPrefix(s, "age1") {
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("--encrypt-to: not an age public key: %w", err)
		}
		return []age.Recipient{r}, nil
	}
	f, err := os.Open(s)
	if err != nil {
		return nil, fmt.Errorf("--encrypt-to: neither an age public key (age1…) nor a readable file: %w", err)
	}
	defer f.Close()
	rs, err := age.ParseRecipients(f)
	if err != nil {
		return nil, fmt.Errorf("--encrypt-to %s: %w", s, err)
	}
	return rs, nil
}

// Check hashes the files of dir against the manifest m: every file must be there with its
// size and SHA-256. It names the first file that differs.
func Check(dir string, m *Manifest) error {
	for _, want := range m.Files {
		got, err := HashFile(filepath.Join(dir, want.Name), want.Name)
		if err != nil {
			return fmt.Errorf("bundle file %s: %w", want.Name, err)
		}
		if got != want {
			return fmt.Errorf("bundle file %s: %d bytes with sha256 %s…, the manifest says %d bytes with sha256 %s…",
				want.Name, got.Size, got.SHA256[:12], want.Size, want.SHA256[:12])
		}
	}
	return nil
}

var errNoTool = errors.New("not found")
