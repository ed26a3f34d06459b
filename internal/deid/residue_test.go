package deid_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transfer"
)

const residuePolicy = `version: 1
default: error
tables:
  patient:
    columns:
      id: keep
      mrn: hash
      name: hash
      note: scrub
  visit:
    columns:
      id: keep
      mrn: hash
      host: {placeholder: hostname}
      comment: scrub
`

// residueTag is a word of letters no hash, pseudonym or placeholder writes (g to z, upper
// case in names and record numbers, lower case in host names), put into every original
// identifier of the fixture: any copy of it on disk is an original value, whatever else the
// server holds.
func residueTag() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = 'G' + b[i]%20
	}
	return string(b)
}

func residueSQL(tag string, n int) []string {
	stmts := []string{
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, mrn VARCHAR(24) NOT NULL UNIQUE, name VARCHAR(60), note TEXT)`,
		`CREATE TABLE visit (id INTEGER PRIMARY KEY, mrn VARCHAR(24) NOT NULL, host VARCHAR(60), comment TEXT,
			FOREIGN KEY (mrn) REFERENCES patient (mrn))`,
	}
	given := []string{"Anna", "Omar", "Wei", "Maria", "Aoife", "Tomas"}
	var p, v []string
	for i := range n {
		mrn := fmt.Sprintf("MRN%s%06d", tag, i)
		name := fmt.Sprintf("%s %s%c", given[i%len(given)], tag, 'A'+rune(i%26))
		host := fmt.Sprintf("ws-%s-%04d", strings.ToLower(tag), i%97)
		p = append(p, fmt.Sprintf("(%d, '%s', '%s', 'Pt %s (%s) admitted from the ED')", i+1, mrn, name, name, mrn))
		v = append(v, fmt.Sprintf("(%d, '%s', '%s', 'seen by %s at %s; chart %s reviewed')", i+1, mrn, host, name, host, mrn))
	}
	for len(p) > 0 {
		k := min(len(p), 500)
		stmts = append(stmts, "INSERT INTO patient VALUES "+strings.Join(p[:k], ", "), "INSERT INTO visit VALUES "+strings.Join(v[:k], ", "))
		p, v = p[k:], v[k:]
	}
	return stmts
}

// countIn counts the occurrences of the patterns in a file, reading it in chunks.
func countIn(path string, patterns [][]byte) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return countReader(f, patterns)
}

func countReader(r io.Reader, patterns [][]byte) (int, error) {
	longest := 0
	for _, p := range patterns {
		longest = max(longest, len(p))
	}
	buf := make([]byte, 1<<20+longest)
	keep, n := 0, 0
	for {
		m, err := io.ReadFull(r, buf[keep:])
		chunk := buf[:keep+m]
		for _, p := range patterns {
			n += bytes.Count(chunk, p)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		// Keep a pattern's length less one at the end, so that one split across chunks is
		// found, and not counted twice.
		keep = longest - 1
		copy(buf, chunk[len(chunk)-keep:])
		for _, p := range patterns {
			n -= bytes.Count(buf[:keep], p)
		}
	}
}

// where is a set of files, and whether the README says they may keep original values.
type where struct {
	what     string
	files    []string
	mayHold  bool // a server-wide log or the undo space: the README says so
	readable bool
}

func walk(dir string, skip func(path string) bool) []string {
	var files []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && path != dir && skip != nil && skip(path) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// placesOf lists the files a database keeps on disk: its own, and the server's logs.
func placesOf(t *testing.T, kind database.Kind, dsn string) []where {
	t.Helper()
	db := dbtest.SQL(t, dsn)
	switch kind {
	case database.SQLite:
		dir := filepath.Dir(strings.TrimPrefix(dsn, "sqlite:"))
		return []where{{what: "the SQLite file and its journals", files: walk(dir, nil), readable: true}}
	case database.Postgres:
		var data, oid string
		if err := db.QueryRow("SHOW data_directory").Scan(&data); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("SELECT oid::text FROM pg_database WHERE datname = current_database()").Scan(&oid); err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(data, "base", oid)
		_, err := os.ReadDir(base)
		out := []where{{what: "the database's files (base/" + oid + ")", files: walk(base, nil), readable: err == nil}}
		wal := filepath.Join(data, "pg_wal")
		_, err = os.ReadDir(wal)
		out = append(out, where{what: "the server's write-ahead log (pg_wal)", files: walk(wal, nil), mayHold: true, readable: err == nil})
		rest := walk(data, func(p string) bool { return p == filepath.Join(data, "base") || p == wal })
		out = append(out, where{what: "the server's other files (global, pg_xact…)", files: rest, readable: err == nil})
		return out
	case database.MySQL:
		var data, name string
		if err := db.QueryRow("SELECT @@datadir, DATABASE()").Scan(&data, &name); err != nil {
			t.Fatal(err)
		}
		own := filepath.Join(data, name)
		_, err := os.ReadDir(own)
		out := []where{{what: "the database's directory (" + name + ")", files: walk(own, nil), readable: err == nil}}
		var logs, other []string
		for _, f := range walk(data, func(p string) bool {
			return filepath.Dir(p) == filepath.Clean(data) && p != filepath.Join(data, "mysql")
		}) {
			base := filepath.Base(f)
			switch {
			case strings.HasPrefix(base, "ib_logfile"), strings.HasPrefix(base, "ibdata"), strings.HasPrefix(base, "undo"),
				strings.HasPrefix(base, "ibtmp"), strings.Contains(base, "-bin."), strings.HasPrefix(base, "aria_log"):
				logs = append(logs, f)
			default:
				other = append(other, f)
			}
		}
		return append(out,
			where{what: "the server's redo log, undo space and binary log (ib_logfile*, ibdata*, undo*, *-bin.*)", files: logs, mayHold: true, readable: err == nil},
			where{what: "the server's other files (mysql/ statistics tables…)", files: other, readable: err == nil})
	}
	return nil
}

// TestInPlaceResidue runs in-place mode on a database with statistics gathered, as a live one
// has, then searches the database's files on disk, and its transfer bundle, for the original
// values. The bundle must hold none; the database's own files must hold none; the server-wide
// logs the README names may (they are reported).
func TestInPlaceResidue(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the servers' data directories")
	}
	const n = 3000
	pol, err := policy.Parse("residue.yaml", []byte(residuePolicy))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			tag := residueTag()
			patterns := [][]byte{[]byte(tag), []byte(strings.ToLower(tag))}
			src := s.Source(t)
			db := dbtest.SQL(t, src)
			for _, q := range residueSQL(tag, n) {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%v\n%.200s", err, q)
				}
			}
			analyze := map[database.Kind][]string{
				database.SQLite:   {"ANALYZE"},
				database.Postgres: {"ANALYZE"},
				database.MySQL:    {"ANALYZE TABLE patient, visit PERSISTENT FOR ALL"},
			}[s.Kind]
			for _, q := range analyze {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			// PostgreSQL keeps large statistics compressed in pg_statistic's TOAST table, where no
			// search of the bytes finds them: the files that held them must be emptied instead.
			var statFiles []string
			if s.Kind == database.Postgres {
				var data string
				if err := db.QueryRow("SHOW data_directory").Scan(&data); err != nil {
					t.Fatal(err)
				}
				rows, err := db.Query(`SELECT pg_relation_filepath(oid) FROM pg_class WHERE oid = 'pg_statistic'::regclass
					OR oid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'pg_statistic'::regclass)`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var p string
					rows.Scan(&p)
					statFiles = append(statFiles, filepath.Join(data, p))
				}
				rows.Close()
				var size int64
				for _, f := range statFiles {
					if fi, err := os.Stat(f); err == nil {
						size += fi.Size()
					}
				}
				if size == 0 {
					t.Skip("cannot read pg_statistic's files (run the test as a user who can read the server's data directory)")
				}
			}
			// An old snapshot in another session of the database (a report someone left open)
			// keeps the statistics ANALYZE replaces visible, so VACUUM FULL must copy them; it
			// is released a second after the new statistics are in.
			if s.Kind == database.Postgres {
				hold, err := db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := hold.Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
					t.Fatal(err)
				}
				if _, err := hold.Exec("SELECT 1"); err != nil {
					t.Fatal(err)
				}
				var once sync.Once
				database.SetCheckpointHook(func(p string) {
					if p == "residue: analyzed" {
						once.Do(func() { time.AfterFunc(time.Second, func() { hold.Rollback() }) })
					}
				})
				t.Cleanup(func() { database.SetCheckpointHook(nil); hold.Rollback() })
			}
			rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: deidtest.Key, Source: src, InPlace: true})
			database.SetCheckpointHook(nil)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Warnings) > 0 {
				t.Errorf("warnings: %q", rep.Warnings)
			}
			t.Logf("in-place run %s, of which clearing %s", rep.Elapsed.Round(time.Millisecond), rep.Clearing.Round(time.Millisecond))
			// What the server has in memory goes to disk.
			db = dbtest.SQL(t, src)
			switch s.Kind {
			case database.Postgres:
				if _, err := db.Exec("CHECKPOINT"); err != nil {
					t.Fatal(err)
				}
			case database.MySQL:
				conn, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := conn.ExecContext(ctx, "FLUSH TABLES patient, visit FOR EXPORT"); err != nil {
					t.Fatal(err)
				}
				conn.ExecContext(ctx, "UNLOCK TABLES")
				conn.Close()
			}
			db.Close()

			for _, f := range statFiles {
				if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
					t.Errorf("%s, a file of pg_statistic before the run, still holds %d bytes", f, fi.Size())
				}
			}
			places := placesOf(t, s.Kind, src)
			for _, w := range places {
				if !w.readable {
					t.Skipf("cannot read %s (run the test as a user who can read the server's data directory)", w.what)
				}
				hits := map[string]int{}
				total := 0
				for _, f := range w.files {
					c, err := countIn(f, patterns)
					if err != nil {
						if os.IsNotExist(err) {
							continue // removed meanwhile
						}
						t.Fatal(err)
					}
					if c > 0 {
						hits[f] = c
						total += c
					}
				}
				var names []string
				for f, c := range hits {
					names = append(names, fmt.Sprintf("%s (%d)", filepath.Base(f), c))
				}
				sort.Strings(names)
				switch {
				case total == 0:
					t.Logf("%s: no original value in %d files", w.what, len(w.files))
				case w.mayHold:
					t.Logf("%s: %d original values in %s — the README says these files may keep them", w.what, total, strings.Join(names, ", "))
				default:
					t.Errorf("%s: %d original values after the in-place run, in %s", w.what, total, strings.Join(names, ", "))
				}
			}

			// The bundle, the one thing to ship, holds none.
			out := filepath.Join(t.TempDir(), "bundle")
			m, err := transfer.Bundle(ctx, transfer.BundleOptions{Source: src, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range m.Files {
				path := filepath.Join(out, f.Name)
				var c int
				if s.Kind == database.Postgres {
					// The custom format is compressed: read it as the SQL it restores.
					dsn, _ := database.ParseDSN(src)
					tool, err := transfer.FindPostgresTool(dsn, "pg_restore")
					if err != nil {
						t.Fatal(err)
					}
					var sql bytes.Buffer
					if err := tool.Run(ctx, []string{"--file=-", path}, &sql); err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(sql.String(), "COPY public.patient") {
						t.Fatalf("pg_restore of %s gave no patient rows", f.Name)
					}
					c, _ = countReader(&sql, patterns)
				} else if c, err = countIn(path, patterns); err != nil {
					t.Fatal(err)
				}
				if c > 0 {
					t.Errorf("bundle file %s: %d original values", f.Name, c)
				} else {
					t.Logf("bundle file %s (%d bytes): no original value", f.Name, f.Size)
				}
			}
		})
	}
}
