package transfer

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/progress"
	_ "modernc.org/sqlite" // VACUUM INTO
)

// server is what a dump tool needs to reach a database server, from a postgres:// or
// mysql:// DSN. The password goes to the tool through its environment, never its arguments.
type server struct {
	host, port, user, password, socket, database string
	query                                        url.Values
}

func parseServer(dsn database.DSN) (server, error) {
	u, err := url.Parse(dsn.Raw)
	if err != nil {
		return server{}, fmt.Errorf("invalid DSN %s", dsn)
	}
	s := server{host: u.Hostname(), port: u.Port(), user: u.User.Username(), query: u.Query()}
	s.password, _ = u.User.Password()
	s.database = strings.TrimPrefix(u.Path, "/")
	s.socket = s.query.Get("socket")
	if h := s.query.Get("host"); h != "" {
		s.host = h
	}
	if s.database == "" || strings.Contains(s.database, "/") || strings.HasPrefix(s.database, "-") {
		return server{}, fmt.Errorf("invalid DSN %s: name one database, e.g. %s://user:pass@host:port/db", dsn, u.Scheme)
	}
	return s, nil
}

// findTool finds a program on $PATH, else the newest match of the glob patterns (PostgreSQL's
// versioned bin directories on Debian).
func findTool(names []string, globs ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		sort.Strings(m)
		if len(m) > 0 {
			return m[len(m)-1], nil
		}
	}
	return "", fmt.Errorf("%s %w on $PATH: install the database's client tools", strings.Join(names, " or "), errNoTool)
}

// run runs a dump tool with the given extra environment, its standard output streamed to w.
// On failure the error carries the tool's standard error, with the password cut out.
func run(ctx context.Context, tool string, args, env []string, password string, w io.Writer) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = w
	var stderr tailBuffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if password != "" {
			msg = strings.ReplaceAll(msg, password, "***")
		}
		if msg != "" {
			msg = ": " + msg
		}
		return fmt.Errorf("%s failed (%v)%s", filepath.Base(tool), err, msg)
	}
	return nil
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.Buffer.Write(p)
	if over := t.Len() - 8<<10; over > 0 {
		t.Next(over)
	}
	return len(p), nil
}

// PostgresTool is one of PostgreSQL's client programs (pg_dump, pg_restore, psql) set up to
// reach the database a postgres:// DSN names: the connection goes through PG* environment
// variables, the password through PGPASSWORD, never the command line.
type PostgresTool struct {
	Path     string // the program
	Database string // the database the DSN names
	env      []string
	password string
}

// FindPostgresTool finds the named PostgreSQL client program for the database dsn names.
func FindPostgresTool(dsn database.DSN, name string) (*PostgresTool, error) {
	s, err := parseServer(dsn)
	if err != nil {
		return nil, err
	}
	tool, err := findTool([]string{name}, "/usr/lib/postgresql/*/bin/"+name, "/usr/local/pgsql/bin/"+name)
	if err != nil {
		return nil, err
	}
	env := []string{"PGDATABASE=" + s.database, "PGPASSWORD=" + s.password, "PGCONNECT_TIMEOUT=30"}
	for k, v := range map[string]string{"PGHOST": s.host, "PGPORT": s.port, "PGUSER": s.user, "PGSSLMODE": s.query.Get("sslmode")} {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return &PostgresTool{Path: tool, Database: s.database, env: env, password: s.password}, nil
}

// Run runs the program with args, its standard output streamed to w. On failure the error
// carries the program's standard error with the password cut out.
func (t *PostgresTool) Run(ctx context.Context, args []string, w io.Writer) error {
	return run(ctx, t.Path, args, t.env, t.password, w)
}

func dumpPostgres(ctx context.Context, dsn database.DSN, snapshot string, m *Manifest, w *bundleWriter) error {
	t, err := FindPostgresTool(dsn, "pg_dump")
	if err != nil {
		return err
	}
	m.Source.Database, m.Format = t.Database, "pg_dump -Fc"
	name, args := t.Database+".dump", []string{"--format=custom", "--no-password"}
	if snapshot != "" {
		args = append(args, "--snapshot="+snapshot)
	}
	if len(w.recipients) == 0 {
		// Written to a file, the archive records where each table's data starts, which
		// pg_restore --jobs needs; through a pipe (to encrypt) it cannot.
		plain := filepath.Join(w.dir, "."+name+".pg_dump")
		if err := t.Run(ctx, append(args, "--file="+plain), io.Discard); err != nil {
			os.Remove(plain)
			return err
		}
		return w.adopt(plain, name)
	}
	return w.create(name, func(out io.Writer) error { return t.Run(ctx, args, out) })
}

func dumpMySQL(ctx context.Context, dsn database.DSN, m *Manifest, w *bundleWriter) error {
	s, err := parseServer(dsn)
	if err != nil {
		return err
	}
	tool, err := findTool([]string{"mariadb-dump", "mysqldump"})
	if err != nil {
		return err
	}
	args := []string{"--single-transaction", "--routines", "--triggers", "--hex-blob", "--no-tablespaces", "--default-character-set=utf8mb4"}
	if s.socket != "" {
		args = append(args, "--socket="+s.socket)
	} else {
		args = append(args, "--protocol=TCP", "--host="+cmp(s.host, "127.0.0.1"), "--port="+cmp(s.port, "3306"))
	}
	if s.user != "" {
		args = append(args, "--user="+s.user)
	}
	args = append(args, s.database)
	m.Source.Database, m.Format = s.database, filepath.Base(tool)+" --single-transaction --routines --triggers"
	return w.create(s.database+".sql", func(out io.Writer) error {
		return run(ctx, tool, args, []string{"MYSQL_PWD=" + s.password}, s.password, out)
	})
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// vacuumSQLite writes a compact, consistent copy of the file with VACUUM INTO. SQLite writes
// that file itself, so an encrypted bundle streams it through age and removes the plain copy.
func vacuumSQLite(ctx context.Context, dsn database.DSN, m *Manifest, w *bundleWriter) error {
	if _, err := os.Stat(dsn.Path); err != nil {
		return fmt.Errorf("sqlite database %s: %w", dsn.Path, err)
	}
	db, err := sql.Open("sqlite", "file:"+dsn.Path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	name := filepath.Base(dsn.Path)
	plain := filepath.Join(w.dir, "."+name+".vacuum")
	// SQLite writes the copy in one statement: its progress is the copy's size as it grows,
	// against the source's (the copy is at most that, being compacted).
	var size int64
	if fi, err := os.Stat(dsn.Path); err == nil {
		size = fi.Size()
	}
	fp := w.progress.File(name+" (VACUUM INTO)", size, 0)
	var done int64
	grown := func() {
		if fi, err := os.Stat(plain); err == nil && fi.Size() > done {
			fp.Add(fi.Size() - done)
			done = fi.Size()
		}
	}
	stop := progress.Every(500*time.Millisecond, grown)
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", plain)
	stop()
	if err != nil {
		fp.Done(err)
		return fmt.Errorf("VACUUM INTO of %s failed: %w", dsn.Path, err)
	}
	grown()
	fp.Done(nil)
	m.Source.Database, m.Format = name, "sqlite VACUUM INTO"
	return w.adopt(plain, name)
}

// adopt takes a file another program wrote in the bundle directory as the bundle file name:
// renamed, or streamed through the encryption and removed.
func (b *bundleWriter) adopt(path, name string) error {
	defer os.Remove(path)
	if len(b.recipients) == 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return err
		}
		if err := os.Rename(path, filepath.Join(b.dir, name)); err != nil {
			return err
		}
		f, err := HashFile(filepath.Join(b.dir, name), name)
		if err != nil {
			return err
		}
		b.files = append(b.files, f)
		return nil
	}
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	return b.create(name, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
