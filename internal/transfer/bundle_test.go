package transfer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/transfer"
)

// fill creates three tables (one with a foreign key, one empty) with a few thousand rows.
func fill(t *testing.T, dsn string) {
	t.Helper()
	db := dbtest.SQL(t, dsn)
	serial := map[bool]string{true: "INTEGER PRIMARY KEY", false: "BIGINT PRIMARY KEY"}[strings.HasPrefix(dsn, "sqlite:")]
	stmts := []string{
		"CREATE TABLE patient (id " + serial + ", mrn VARCHAR(12) NOT NULL, note TEXT)",
		"CREATE TABLE encounter (id " + serial + ", patient_id BIGINT REFERENCES patient(id), ward VARCHAR(20))",
		"CREATE TABLE empty_one (id " + serial + ")",
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Commit()
	for i := 1; i <= 3000; i++ {
		if _, err := tx.Exec(fmt.Sprintf("INSERT INTO patient VALUES (%d, 'h%08x', 'note %d é')", i, i*7919, i)); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		if i%3 == 0 {
			if _, err := tx.Exec(fmt.Sprintf("INSERT INTO encounter VALUES (%d, %d, 'ward %d')", i, i, i%7)); err != nil {
				t.Fatalf("fixture: %v", err)
			}
		}
	}
}

// counts is the row count of every table of the database.
func counts(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	db := dbtest.SQL(t, dsn)
	got := map[string]int64{}
	for _, table := range []string{"patient", "encounter", "empty_one"} {
		var n int64
		if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		got[table] = n
	}
	return got
}

var wantCounts = map[string]int64{"patient": 3000, "encounter": 1000, "empty_one": 0}

func checkCounts(t *testing.T, dsn string) {
	t.Helper()
	got := counts(t, dsn)
	for table, want := range wantCounts {
		if got[table] != want {
			t.Errorf("restored %s: got %d rows, want %d", table, got[table], want)
		}
	}
}

// checkBundle checks what a user of the bundle directory sees: exactly the manifest's files
// plus the manifest, all readable by the owner only, matching the manifest.
func checkBundle(t *testing.T, dir string, m *transfer.Manifest) {
	t.Helper()
	read, err := transfer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Files) != len(m.Files) || len(m.Files) == 0 {
		t.Fatalf("manifest on disk lists %d files, Bundle returned %d", len(read.Files), len(m.Files))
	}
	if err := transfer.Check(dir, read); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(m.Files)+1 {
		t.Errorf("bundle directory holds %d entries, want %d files and the manifest", len(entries), len(m.Files))
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*partial*")); len(leftovers) > 0 {
		t.Errorf("temporary directories left beside the bundle: %v", leftovers)
	}
}

func bundle(t *testing.T, src string, rs ...age.Recipient) (string, *transfer.Manifest) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bundle")
	m, err := transfer.Bundle(context.Background(), transfer.BundleOptions{Source: src, Out: out, Recipients: rs})
	if err != nil {
		t.Fatalf("bundle: %v", err)
	}
	checkBundle(t, out, m)
	return out, m
}

func restoreEnv(t testing.TB, dsn string) (args, env []string) {
	u, _ := url.Parse(dsn)
	pass, _ := u.User.Password()
	return []string{"-h", u.Hostname(), "-p", u.Port(), "-U", u.User.Username(), "-d", strings.TrimPrefix(u.Path, "/")}, []string{"PGPASSWORD=" + pass}
}

func runTool(t *testing.T, stdin io.Reader, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Env = stdin, append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func TestBundlePostgresRestores(t *testing.T) {
	src := dbtest.Postgres(t)
	fill(t, src)
	dir, m := bundle(t, src)
	if m.Format != "pg_dump -Fc" || m.Source.Kind != "postgres" || m.Source.Database != strings.TrimPrefix(mustURL(t, src).Path, "/") {
		t.Errorf("manifest says %+v, format %q", m.Source, m.Format)
	}
	dst := dbtest.Postgres(t)
	args, env := restoreEnv(t, dst)
	runTool(t, nil, env, "pg_restore", append(append(args, "--no-owner", "--exit-on-error", "--jobs=2"), filepath.Join(dir, m.Files[0].Name))...)
	checkCounts(t, dst)
}

func TestBundleMySQLRestores(t *testing.T) {
	src := dbtest.MySQL(t)
	fill(t, src)
	dir, m := bundle(t, src)
	if m.Source.Kind != "mysql" || !strings.Contains(m.Format, "--single-transaction") || m.Files[0].Name != m.Source.Database+".sql" {
		t.Errorf("manifest says %+v, format %q, files %v", m.Source, m.Format, m.Files)
	}
	dst := dbtest.MySQL(t)
	u := mustURL(t, dst)
	f, err := os.Open(filepath.Join(dir, m.Files[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runTool(t, f, nil, "mysql", "--protocol=TCP", "-h", u.Hostname(), "-P", u.Port(), "-u", u.User.Username(), strings.TrimPrefix(u.Path, "/"))
	checkCounts(t, dst)
}

func TestBundleSQLiteOpens(t *testing.T) {
	src := "sqlite:" + filepath.Join(t.TempDir(), "hospital-deid.db")
	fill(t, src)
	dir, m := bundle(t, src)
	if m.Format != "sqlite VACUUM INTO" || m.Files[0].Name != "hospital-deid.db" || m.Encrypted != "" {
		t.Errorf("manifest: format %q, files %v, encrypted %q", m.Format, m.Files, m.Encrypted)
	}
	checkCounts(t, "sqlite:"+filepath.Join(dir, m.Files[0].Name))
}

func TestEncryptedBundleDecrypts(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	// The recipient given as a file, as the vendor would send it.
	keyFile := filepath.Join(t.TempDir(), "vendor.pub")
	os.WriteFile(keyFile, []byte("# vendor\n"+id.Recipient().String()+"\n"), 0o644)
	rs, err := transfer.ParseRecipients(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	src := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	fill(t, src)
	plainDir, plain := bundle(t, src)
	encDir, enc := bundle(t, src, rs...)
	if enc.Encrypted != "age" || enc.Files[0].Name != "x.db.age" {
		t.Fatalf("encrypted manifest: encrypted %q, files %v", enc.Encrypted, enc.Files)
	}
	if enc.Files[0].SHA256 == plain.Files[0].SHA256 {
		t.Fatal("the encrypted file has the plain file's digest")
	}
	want, _ := os.ReadFile(filepath.Join(plainDir, plain.Files[0].Name))
	f, _ := os.Open(filepath.Join(encDir, enc.Files[0].Name))
	defer f.Close()
	r, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decrypted %d bytes differ from the plain bundle's %d bytes", len(got), len(want))
	}
	other, _ := age.GenerateX25519Identity()
	f.Seek(0, io.SeekStart)
	if _, err := age.Decrypt(f, other); err == nil {
		t.Error("another identity decrypted the bundle")
	}
}

func TestEncryptedPostgresBundleRestores(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	rs, err := transfer.ParseRecipients(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	src := dbtest.Postgres(t)
	fill(t, src)
	dir, m := bundle(t, src, rs...)
	f, _ := os.Open(filepath.Join(dir, m.Files[0].Name))
	defer f.Close()
	r, err := age.Decrypt(f, id)
	if err != nil {
		t.Fatal(err)
	}
	dst := dbtest.Postgres(t)
	args, env := restoreEnv(t, dst)
	runTool(t, r, env, "pg_restore", append(args, "--no-owner", "--exit-on-error")...)
	checkCounts(t, dst)
}

func TestBundleFailureLeavesNothing(t *testing.T) {
	base := dbtest.PostgresName(t) // a database that does not exist
	u := mustURL(t, base)
	pass, ok := u.User.Password()
	if !ok { // a trust-auth server ignores it; a password server (fresh CI install) needs its own
		pass = "s3cret-Pa55"
		u.User = url.UserPassword(u.User.Username(), pass)
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "bundle")
	_, err := transfer.Bundle(context.Background(), transfer.BundleOptions{Source: u.String(), Out: out})
	if err == nil {
		t.Fatal("bundle of a missing database succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "pg_dump failed") || !strings.Contains(msg, "does not exist") {
		t.Errorf("error does not say what failed: %s", msg)
	}
	if strings.Contains(msg, pass) {
		t.Errorf("error shows the password: %s", msg)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("a failed bundle left %v", entries)
	}

	// An existing directory is never overwritten.
	os.Mkdir(out, 0o700)
	src := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	fill(t, src)
	if _, err := transfer.Bundle(context.Background(), transfer.BundleOptions{Source: src, Out: out}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("bundle into an existing directory: got %v, want an error saying it exists", err)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// recorded is a transfer.Progress that keeps what it was told.
type recorded struct {
	mu    sync.Mutex
	files map[string]*recordedFile
}

type recordedFile struct {
	size, added int64
	done        bool
	err         error
}

func (r *recorded) File(name string, size, done int64) transfer.FileProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := &recordedFile{size: size, added: done}
	r.files[name] = f
	return recordedFileProgress{r, f}
}

type recordedFileProgress struct {
	r *recorded
	f *recordedFile
}

func (p recordedFileProgress) Add(n int64) { p.r.mu.Lock(); p.f.added += n; p.r.mu.Unlock() }
func (p recordedFileProgress) Done(err error) {
	p.r.mu.Lock()
	p.f.done, p.f.err = true, err
	p.r.mu.Unlock()
}

// A SQLite bundle is one VACUUM INTO statement: its progress follows the copy's bytes
// against the source's size, ending at the copy's size (before, nothing was said until the
// bundle ended).
func TestBundleSQLiteReportsProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hospital-deid.db")
	fill(t, "sqlite:"+path)
	src, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorded{files: map[string]*recordedFile{}}
	out := filepath.Join(t.TempDir(), "bundle")
	m, err := transfer.Bundle(context.Background(), transfer.BundleOptions{Source: "sqlite:" + path, Out: out, Progress: rec})
	if err != nil {
		t.Fatalf("bundle: %v", err)
	}
	f := rec.files["hospital-deid.db (VACUUM INTO)"]
	if f == nil {
		t.Fatalf("no progress for the VACUUM INTO copy; told about %v", rec.files)
	}
	if f.size != src.Size() || f.added != m.Files[0].Size || !f.done || f.err != nil {
		t.Errorf("progress: size %d (source %d), %d bytes added (copy %d), done %v, err %v", f.size, src.Size(), f.added, m.Files[0].Size, f.done, f.err)
	}
}
