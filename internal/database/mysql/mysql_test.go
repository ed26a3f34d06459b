package mysql

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
)

// The hospital schema of most tests: ward and patient, tied by a foreign key.
var hospitalDDL = []string{
	`CREATE TABLE ward (
		code varchar(12) NOT NULL,
		name varchar(40) NOT NULL,
		PRIMARY KEY (code)
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE patient (
		id varchar(12) NOT NULL,
		seq int NOT NULL AUTO_INCREMENT,
		mrn bigint unsigned NOT NULL,
		balance decimal(10,2) NOT NULL DEFAULT 0.00,
		born date DEFAULT NULL,
		admitted datetime NOT NULL DEFAULT current_timestamp(),
		notes text,
		photo blob,
		status enum('in','out') NOT NULL DEFAULT 'in',
		name varchar(40) NOT NULL DEFAULT 'it''s',
		ward varchar(12) DEFAULT NULL,
		flag tinyint(1) NOT NULL DEFAULT 0,
		weight float DEFAULT NULL,
		PRIMARY KEY (id),
		UNIQUE KEY patient_seq (seq),
		UNIQUE KEY patient_mrn (mrn),
		KEY patient_name_born (name(10), born),
		CONSTRAINT patient_ward FOREIGN KEY (ward) REFERENCES ward (code) ON DELETE SET NULL
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
}

var hospitalRows = []struct {
	table string
	cols  string
	args  []any
}{
	{"ward", "code, name", []any{"w1", "North"}},
	{"ward", "code, name", []any{"w2", "Søuth"}},
	{"patient", "id, seq, mrn, balance, born, admitted, notes, photo, status, name, ward, flag, weight", []any{
		"p1", 0, uint64(18446744073709551615), "1234.50", "1980-02-29", "2024-01-02 03:04:05",
		"Zoë\n\t\\ \"quoted\" it's \x00 end\x1a", []byte{0x00, 0xff, '\'', '\\', '\n', '\t', 0x1a, '"'},
		"out", "Zoë", "w1", 1, 3.14159}},
	{"patient", "id, seq, mrn, balance, born, admitted, notes, photo, status, name, ward, flag, weight", []any{
		"p2", 1, 0, "-0.01", nil, "0000-00-00 00:00:00", nil, []byte{}, "in", "", nil, 0, nil}},
	{"patient", "id, seq, mrn, balance, born, admitted, notes, photo, status, name, ward, flag, weight", []any{
		"p3", 7, int64(9223372036854775807), "0.00", "2000-01-01", "1999-12-31 23:59:59", "", nil, "in", "Ann", "w2", 0, -1.5e-10}},
}

// The extras: what the portable schema has no field for, which a MySQL copy keeps anyway.
var extraDDL = []string{
	`CREATE TABLE extra (
		id int NOT NULL,
		doc json,
		twice int GENERATED ALWAYS AS (id * 2) VIRTUAL,
		label varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '',
		latin varchar(20) DEFAULT 'é',
		bits bit(3) DEFAULT b'101',
		yr year DEFAULT NULL,
		tm time(3) DEFAULT '12:00:00.000',
		tags set('a','b','c') DEFAULT NULL,
		touched timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
		bin varbinary(8) DEFAULT NULL,
		PRIMARY KEY (id),
		UNIQUE KEY extra_label (label),
		KEY extra_twice (twice),
		CONSTRAINT extra_positive CHECK (id >= 0)
	) ENGINE=InnoDB DEFAULT CHARSET=latin1`,
}

var extraRows = []struct {
	table string
	cols  string
	args  []any
}{
	{"extra", "id, doc, label, latin, bits, yr, tm, tags, touched, bin", []any{
		1, `{"a": [1, 2]}`, "a", "Café", []byte{5}, 2024, "-838:59:59.000", "a,c", "2021-03-04 05:06:07", []byte("\x00\x01")}},
	{"extra", "id, doc, label, latin, bits, yr, tm, tags, touched, bin", []any{
		2, nil, "A", nil, nil, nil, nil, "", "1970-01-01 00:00:01", nil}},
}

func openTest(t testing.TB, dsn string) *DB {
	t.Helper()
	d, err := database.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := open(context.Background(), d, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.(*DB)
}

func execAll(t testing.TB, d *DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := d.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// hospital returns a new database with the hospital schema and rows (and the extras).
func hospital(t testing.TB, extras bool) *DB {
	t.Helper()
	d := openTest(t, dbtest.MySQL(t))
	execAll(t, d, hospitalDDL...)
	rows := hospitalRows
	if extras {
		execAll(t, d, extraDDL...)
		rows = append(rows[:len(rows):len(rows)], extraRows...)
	}
	for _, r := range rows {
		q := "INSERT INTO " + r.table + " (" + r.cols + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(r.args)), ", ") + ")"
		if _, err := d.db.Exec(q, r.args...); err != nil {
			t.Fatalf("%s %v: %v", q, r.args, err)
		}
	}
	return d
}

func schemaOf(t testing.TB, d database.DB) *database.Schema {
	t.Helper()
	s, err := d.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rowsOf reads every row of a table, sorted by its first column.
func rowsOf(t testing.TB, d database.DB, table string) []database.Row {
	t.Helper()
	tb := schemaOf(t, d).Table(table)
	if tb == nil {
		t.Fatalf("no table %s", table)
	}
	var rows []database.Row
	err := d.Scan(context.Background(), tb, func(r database.Row) error {
		rows = append(rows, append(database.Row{}, r...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i][0]) < fmt.Sprint(rows[j][0]) })
	return rows
}

func TestSchema(t *testing.T) {
	d := hospital(t, false)
	if !d.mariaDB {
		t.Skip("the expected natives and defaults are MariaDB's")
	}
	s := schemaOf(t, d)
	want := []*database.Table{
		{
			Name: "patient",
			Columns: []*database.Column{
				{Name: "id", Type: database.Text, Native: "varchar(12)", Length: 12, NotNull: true},
				{Name: "seq", Type: database.Integer, Native: "int(11)", Bits: 32, NotNull: true, Identity: true},
				{Name: "mrn", Type: database.Integer, Native: "bigint(20) unsigned", Bits: 64, Unsigned: true, NotNull: true},
				{Name: "balance", Type: database.Decimal, Native: "decimal(10,2)", NotNull: true, Default: "0.00"},
				{Name: "born", Type: database.Date, Native: "date"},
				{Name: "admitted", Type: database.Timestamp, Native: "datetime", NotNull: true, Default: "current_timestamp()"},
				{Name: "notes", Type: database.Text, Native: "text"},
				{Name: "photo", Type: database.Bytes, Native: "blob"},
				{Name: "status", Type: database.Other, Native: "enum('in','out')", NotNull: true, Default: "'in'"},
				{Name: "name", Type: database.Text, Native: "varchar(40)", Length: 40, NotNull: true, Default: "'it''s'"},
				{Name: "ward", Type: database.Text, Native: "varchar(12)", Length: 12},
				{Name: "flag", Type: database.Integer, Native: "tinyint(1)", Bits: 8, NotNull: true, Default: "0"},
				{Name: "weight", Type: database.Float, Native: "float"},
			},
			PrimaryKey: []string{"id"},
			Indexes: []*database.Index{
				{Name: "patient_mrn", Columns: []string{"mrn"}, Unique: true, Def: "CREATE UNIQUE INDEX `patient_mrn` ON `patient` (`mrn`)"},
				{Name: "patient_name_born", Columns: []string{"name", "born"}, Def: "CREATE INDEX `patient_name_born` ON `patient` (`name`(10), `born`)"},
				{Name: "patient_seq", Columns: []string{"seq"}, Unique: true, Def: "CREATE UNIQUE INDEX `patient_seq` ON `patient` (`seq`)"},
				// InnoDB's own index for the foreign key.
				{Name: "patient_ward", Columns: []string{"ward"}, Def: "CREATE INDEX `patient_ward` ON `patient` (`ward`)"},
			},
			ForeignKeys: []*database.ForeignKey{{
				Name: "patient_ward", Columns: []string{"ward"}, RefTable: "ward", RefColumns: []string{"code"},
				Def: "CONSTRAINT `patient_ward` FOREIGN KEY (`ward`) REFERENCES `ward` (`code`) ON DELETE SET NULL ON UPDATE RESTRICT",
			}},
		},
		{
			Name: "ward",
			Columns: []*database.Column{
				{Name: "code", Type: database.Text, Native: "varchar(12)", Length: 12, NotNull: true},
				{Name: "name", Type: database.Text, Native: "varchar(40)", Length: 40, NotNull: true},
			},
			PrimaryKey: []string{"code"},
		},
	}
	if len(s.Tables) != len(want) {
		t.Fatalf("got %d tables, want %d", len(s.Tables), len(want))
	}
	for i, w := range want {
		g := *s.Tables[i]
		if g.Rows < 0 || g.Rows > 10 {
			t.Errorf("%s: got a row estimate of %d, want 0 to 10", g.Name, g.Rows)
		}
		g.Rows = 0
		compareTable(t, &g, w)
	}
	if !s.Tables[0].Unique("mrn") || s.Tables[0].Unique("ward") {
		t.Errorf("Unique: got mrn %v, ward %v; want true, false", s.Tables[0].Unique("mrn"), s.Tables[0].Unique("ward"))
	}
}

func compareTable(t *testing.T, got, want *database.Table) {
	t.Helper()
	if got.Name != want.Name {
		t.Errorf("got table %s, want %s", got.Name, want.Name)
		return
	}
	if len(got.Columns) != len(want.Columns) {
		t.Errorf("%s: got %d columns, want %d", got.Name, len(got.Columns), len(want.Columns))
	}
	for i := 0; i < len(got.Columns) && i < len(want.Columns); i++ {
		if g, w := *got.Columns[i], *want.Columns[i]; g != w {
			t.Errorf("%s column %d:\n got %+v\nwant %+v", got.Name, i, g, w)
		}
	}
	if !reflect.DeepEqual(got.PrimaryKey, want.PrimaryKey) {
		t.Errorf("%s primary key: got %q, want %q", got.Name, got.PrimaryKey, want.PrimaryKey)
	}
	if len(got.Indexes) != len(want.Indexes) {
		t.Errorf("%s: got %d indexes, want %d", got.Name, len(got.Indexes), len(want.Indexes))
	}
	for i := 0; i < len(got.Indexes) && i < len(want.Indexes); i++ {
		if g, w := got.Indexes[i], want.Indexes[i]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s index %d:\n got %+v\nwant %+v", got.Name, i, *g, *w)
		}
	}
	if len(got.ForeignKeys) != len(want.ForeignKeys) {
		t.Errorf("%s: got %d foreign keys, want %d", got.Name, len(got.ForeignKeys), len(want.ForeignKeys))
	}
	for i := 0; i < len(got.ForeignKeys) && i < len(want.ForeignKeys); i++ {
		if g, w := got.ForeignKeys[i], want.ForeignKeys[i]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s foreign key %d:\n got %+v\nwant %+v", got.Name, i, *g, *w)
		}
	}
}

func TestScanValues(t *testing.T) {
	d := hospital(t, true)
	p1 := rowsOf(t, d, "patient")[0]
	pt := schemaOf(t, d).Table("patient")
	tests := []struct {
		column string
		want   any
	}{
		{"id", "p1"},
		{"seq", int64(0)},
		{"mrn", "18446744073709551615"}, // past int64: kept as the server printed it
		{"balance", "1234.50"},
		{"born", "1980-02-29"},
		{"admitted", "2024-01-02 03:04:05"},
		{"notes", "Zoë\n\t\\ \"quoted\" it's \x00 end\x1a"},
		{"photo", []byte{0x00, 0xff, '\'', '\\', '\n', '\t', 0x1a, '"'}},
		{"status", "out"},
		{"name", "Zoë"},
		{"flag", int64(1)},
		{"weight", 3.14159},
	}
	for _, tt := range tests {
		if got := p1[pt.ColumnIndex(tt.column)]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("patient p1 %s: got %#v (%T), want %#v (%T)", tt.column, got, got, tt.want, tt.want)
		}
	}
	p2 := rowsOf(t, d, "patient")[1]
	for _, c := range []struct {
		column string
		want   any
	}{{"born", nil}, {"photo", []byte{}}, {"name", ""}, {"admitted", "0000-00-00 00:00:00"}, {"mrn", int64(0)}} {
		if got := p2[pt.ColumnIndex(c.column)]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("patient p2 %s: got %#v, want %#v", c.column, got, c.want)
		}
	}
	ex := schemaOf(t, d).Table("extra")
	e1 := rowsOf(t, d, "extra")[0]
	for _, c := range []struct {
		column string
		typ    database.Type
		native string
		want   any
	}{
		{"doc", database.Other, "json", `{"a": [1, 2]}`},
		{"twice", database.Integer, "int(11)", int64(2)},
		{"bits", database.Other, "bit(3)", "\x05"},
		{"yr", database.Other, "year(4)", "2024"},
		{"tm", database.Other, "time(3)", "-838:59:59.000"},
		{"tags", database.Other, "set('a','b','c')", "a,c"},
		{"touched", database.Timestamp, "timestamp", "2021-03-04 05:06:07"},
		{"latin", database.Text, "varchar(20)", "Café"},
	} {
		col := ex.Column(c.column)
		if col.Type != c.typ || (d.mariaDB && col.Native != c.native) {
			t.Errorf("extra %s: got type %v native %q, want %v %q", c.column, col.Type, col.Native, c.typ, c.native)
		}
		if got := e1[ex.ColumnIndex(c.column)]; !reflect.DeepEqual(got, c.want) {
			t.Errorf("extra 1 %s: got %#v, want %#v", c.column, got, c.want)
		}
	}
}

// copyAll copies every table of src into a new MySQL target as the engine does.
func copyAll(t *testing.T, src *DB, method loadMethod) *DB {
	t.Helper()
	ctx := context.Background()
	tg, err := database.OpenTarget(ctx, dbtest.MySQLName(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tg.Close() })
	dst := tg.(*DB)
	dst.method = method
	s := schemaOf(t, src)
	if err := dst.CreateTables(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, tb := range s.Tables {
		w, err := dst.Writer(ctx, tb)
		if err != nil {
			t.Fatal(err)
		}
		err = src.Scan(ctx, tb, w.Write)
		if err != nil {
			w.Abort()
			t.Fatalf("copy %s: %v", tb.Name, err)
		}
		n, err := w.Close()
		if err != nil {
			t.Fatalf("copy %s: %v", tb.Name, err)
		}
		if want := countRows(t, src, tb.Name); n != want {
			t.Errorf("copy %s: wrote %d rows, want %d", tb.Name, n, want)
		}
	}
	if err := dst.Finish(ctx, s); err != nil {
		t.Fatal(err)
	}
	return dst
}

func countRows(t testing.TB, d *DB, table string) int64 {
	t.Helper()
	var n int64
	if err := d.db.QueryRow("SELECT COUNT(*) FROM " + quoteIdent(table)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCopy(t *testing.T) {
	for _, tt := range []struct {
		name   string
		method loadMethod
	}{{"insert", methodInsert}, {"load data", methodLoadData}} {
		t.Run(tt.name, func(t *testing.T) {
			src := hospital(t, true)
			if tt.method == methodLoadData && !src.loadData {
				t.Skip("the server does not allow LOAD DATA LOCAL INFILE")
			}
			dst := copyAll(t, src, tt.method)

			for _, table := range []string{"extra", "patient", "ward"} {
				got, want := rowsOf(t, dst, table), rowsOf(t, src, table)
				if len(got) != len(want) {
					t.Errorf("%s: got %d rows, want %d", table, len(got), len(want))
					continue
				}
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("%s row %d:\n got %#v\nwant %#v", table, i, got[i], want[i])
					}
				}
			}

			// The copy has the source's columns, keys, indexes and foreign keys.
			ss, ds := schemaOf(t, src), schemaOf(t, dst)
			for i, st := range ss.Tables {
				if i >= len(ds.Tables) {
					t.Fatalf("got %d tables, want %d", len(ds.Tables), len(ss.Tables))
				}
				g, w := *ds.Tables[i], *st
				g.Rows, w.Rows = 0, 0
				compareTable(t, &g, &w)
				gm, wm := metaOf(ds.Tables[i]), metaOf(st)
				if gm.collation != wm.collation || !reflect.DeepEqual(gm.checks, wm.checks) {
					t.Errorf("%s: got collation %s checks %q, want %s %q", g.Name, gm.collation, gm.checks, wm.collation, wm.checks)
				}
				for name, c := range wm.columns {
					if *gm.columns[name] != *c {
						t.Errorf("%s.%s: got %+v, want %+v", g.Name, name, *gm.columns[name], *c)
					}
				}
			}

			// AUTO_INCREMENT goes on past the largest value (7), and a 0 stayed 0.
			res, err := dst.db.Exec("INSERT INTO patient (id, mrn) VALUES ('p4', 4)")
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := res.LastInsertId(); id != 8 {
				t.Errorf("got AUTO_INCREMENT value %d, want 8", id)
			}
			// The foreign key is there and enforced.
			_, err = dst.db.Exec("INSERT INTO patient (id, mrn, ward) VALUES ('p5', 5, 'nowhere')")
			if err == nil || !strings.Contains(err.Error(), "foreign key constraint fails") {
				t.Errorf("insert of a dangling ward: got %v, want a foreign key error", err)
			}
			// So are the unique index and the check constraint.
			if _, err = dst.db.Exec("INSERT INTO patient (id, mrn) VALUES ('p6', 0)"); err == nil {
				t.Errorf("insert of a duplicate mrn: got no error, want a duplicate key error")
			}
			if _, err = dst.db.Exec("INSERT INTO extra (id, label) VALUES (-1, 'x')"); err == nil {
				t.Errorf("insert of a negative extra id: got no error, want a check constraint error")
			}
		})
	}
}

func TestCreateTablesExisting(t *testing.T) {
	src := hospital(t, false)
	dst := openTest(t, dbtest.MySQL(t))
	s := schemaOf(t, src)
	ctx := context.Background()
	if err := dst.CreateTables(ctx, s); err != nil {
		t.Fatal(err)
	}
	err := dst.CreateTables(ctx, s)
	if err == nil || !strings.Contains(err.Error(), "patient") || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("got %v, want an error naming patient as existing", err)
	}
}

func TestWriterAbort(t *testing.T) {
	for _, method := range []loadMethod{methodInsert, methodLoadData} {
		src := hospital(t, false)
		dst := openTest(t, dbtest.MySQL(t))
		dst.method = method
		ctx := context.Background()
		s := schemaOf(t, src)
		if err := dst.CreateTables(ctx, s); err != nil {
			t.Fatal(err)
		}
		w, err := dst.Writer(ctx, s.Table("ward"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2500 {
			if err := w.Write(database.Row{fmt.Sprint("w", i), "x"}); err != nil {
				t.Fatal(err)
			}
		}
		w.Abort()
		if n := countRows(t, dst, "ward"); n != 0 {
			t.Errorf("method %d: got %d rows after Abort, want 0", method, n)
		}
	}
}

// TestTemporaryTableDoesNotCommit checks what MariaDB does with CREATE TEMPORARY TABLE inside
// a transaction: it does not commit it.
func TestTemporaryTableDoesNotCommit(t *testing.T) {
	d := hospital(t, false)
	ctx := context.Background()
	conn, err := d.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer discard(conn)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DELETE FROM patient", "CREATE TEMPORARY TABLE steward_stage_0 LIKE patient"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, d, "patient"); n != 3 {
		t.Errorf("got %d patients after the rollback, want 3", n)
	}
}

// anonymise is a fill that writes every row with its name column replaced.
func anonymise(d *DB) func(ctx context.Context, t *database.Table, w database.RowWriter) error {
	return func(ctx context.Context, t *database.Table, w database.RowWriter) error {
		name := t.ColumnIndex("name")
		if name < 0 {
			name = t.ColumnIndex("label")
		}
		return d.Scan(ctx, t, func(r database.Row) error {
			r[name] = "anon-" + fmt.Sprint(r[0])
			return w.Write(r)
		})
	}
}

func group(t *testing.T, d *DB, first string) []*database.Table {
	t.Helper()
	for _, g := range database.Groups(schemaOf(t, d), func(*database.Table, *database.ForeignKey) bool { return true }) {
		if g[0].Name == first {
			return g
		}
	}
	t.Fatalf("no group starting with %s", first)
	return nil
}

// rewrite rewrites a group for run, recording it with placeholder rules; a group the run
// has done is skipped.
func rewrite(ctx context.Context, d *DB, run string, tables []*database.Table, fill func(context.Context, *database.Table, database.RowWriter) error) error {
	_, err := d.Rewrite(ctx, &database.RewriteGroup{
		Run:    database.Run{ID: run, KeyFingerprint: "k", PolicyDigest: "p", Tables: len(tables), Started: time.Now()},
		Tables: tables,
		Check: func(ledger []database.Progress) (bool, error) {
			for _, p := range ledger {
				if p.ID == run && p.Table == tables[0].Name {
					return true, nil
				}
			}
			return false, nil
		},
		Fill: fill,
	})
	return err
}

// done lists the tables the ledger records for run.
func doneTables(ctx context.Context, d *DB, run string) (map[string]bool, error) {
	ledger, err := d.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range ledger {
		if p.ID == run {
			out[p.Table] = true
		}
	}
	return out, nil
}

func TestRewrite(t *testing.T) {
	d := hospital(t, true)
	ctx := context.Background()
	before := map[string][]database.Row{}
	for _, table := range []string{"patient", "ward", "extra"} {
		before[table] = rowsOf(t, d, table)
	}
	g := group(t, d, "patient")
	if len(g) != 2 {
		t.Fatalf("got group %v, want patient and ward", g)
	}
	if err := rewrite(ctx, d, "run1", g, anonymise(d)); err != nil {
		t.Fatal(err)
	}
	if err := rewrite(ctx, d, "run1", group(t, d, "extra"), anonymise(d)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"patient", "ward", "extra"} {
		tb := schemaOf(t, d).Table(table)
		got := rowsOf(t, d, table)
		if len(got) != len(before[table]) {
			t.Fatalf("%s: got %d rows, want %d", table, len(got), len(before[table]))
		}
		for i, want := range before[table] {
			want = append(database.Row{}, want...)
			col := "name"
			if table == "extra" {
				col = "label"
			}
			want[tb.ColumnIndex(col)] = "anon-" + fmt.Sprint(want[0])
			if !reflect.DeepEqual(got[i], want) {
				t.Errorf("%s row %d:\n got %#v\nwant %#v", table, i, got[i], want)
			}
		}
	}
	done, err := doneTables(ctx, d, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"patient": true, "ward": true, "extra": true}; !reflect.DeepEqual(done, want) {
		t.Errorf("Done(run1): got %v, want %v", done, want)
	}
	if done, err := doneTables(ctx, d, "run2"); err != nil || len(done) != 0 {
		t.Errorf("Done(run2): got %v, %v; want nothing", done, err)
	}
	if s := schemaOf(t, d); s.Table(ledgerTable) != nil {
		t.Errorf("Schema lists the ledger table %s", ledgerTable)
	}
	// The rewrite kept the foreign key.
	if _, err := d.db.Exec("INSERT INTO patient (id, mrn, ward) VALUES ('p9', 9, 'nowhere')"); err == nil {
		t.Errorf("insert of a dangling ward after the rewrite: got no error, want a foreign key error")
	}
}

func TestRewriteFailure(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		fill func(d *DB) func(ctx context.Context, t *database.Table, w database.RowWriter) error
		hook func(ctx context.Context, ex execer) error
		want string
	}{
		{
			name: "fill fails halfway through the second table",
			fill: func(d *DB) func(context.Context, *database.Table, database.RowWriter) error {
				return func(ctx context.Context, t *database.Table, w database.RowWriter) error {
					n := 0
					return d.Scan(ctx, t, func(r database.Row) error {
						if t.Name == "ward" && n == 1 {
							return boom
						}
						n++
						r[t.ColumnIndex("name")] = "changed"
						return w.Write(r)
					})
				}
			},
			want: "boom",
		},
		{
			name: "fill aborts the writer",
			fill: func(d *DB) func(context.Context, *database.Table, database.RowWriter) error {
				return func(ctx context.Context, t *database.Table, w database.RowWriter) error {
					w.Abort()
					return nil
				}
			},
			want: "aborted",
		},
		{
			name: "fill writes a duplicate key",
			fill: func(d *DB) func(context.Context, *database.Table, database.RowWriter) error {
				return func(ctx context.Context, t *database.Table, w database.RowWriter) error {
					return d.Scan(ctx, t, func(r database.Row) error {
						if err := w.Write(r); err != nil {
							return err
						}
						return w.Write(r)
					})
				}
			},
			want: "Duplicate entry",
		},
		{
			name: "error after the tables are replaced, before COMMIT",
			fill: anonymise,
			hook: func(ctx context.Context, ex execer) error {
				// The rows are replaced inside the transaction at this point.
				rows, err := ex.QueryContext(ctx, "SELECT COUNT(*) FROM patient WHERE name LIKE 'anon-%'")
				if err != nil {
					return err
				}
				var n int
				each(rows, func() error { return rows.Scan(&n) })
				if n != 3 {
					return fmt.Errorf("got %d anonymised patients inside the transaction, want 3", n)
				}
				return boom
			},
			want: "boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []loadMethod{methodInsert, methodLoadData} {
				d := hospital(t, false)
				d.method = method
				before := map[string][]database.Row{"patient": rowsOf(t, d, "patient"), "ward": rowsOf(t, d, "ward")}
				testHookBeforeCommit = tt.hook
				err := rewrite(context.Background(), d, "run1", group(t, d, "patient"), tt.fill(d))
				testHookBeforeCommit = nil
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("method %d: got error %v, want one with %q", method, err, tt.want)
				}
				for table, want := range before {
					if got := rowsOf(t, d, table); !reflect.DeepEqual(got, want) {
						t.Errorf("method %d: %s changed:\n got %#v\nwant %#v", method, table, got, want)
					}
				}
				if done, err := doneTables(context.Background(), d, "run1"); err != nil || len(done) != 0 {
					t.Errorf("method %d: Done: got %v, %v; want nothing", method, done, err)
				}
				// The pool is still usable, and a later rewrite succeeds.
				if err := rewrite(context.Background(), d, "run1", group(t, d, "patient"), anonymise(d)); err != nil {
					t.Errorf("method %d: rewrite after the failure: %v", method, err)
				}
			}
		})
	}
}

func TestRewriteRefuses(t *testing.T) {
	d := hospital(t, false)
	execAll(t, d,
		"CREATE TABLE audit (what varchar(40))",
		"CREATE TRIGGER ward_audit BEFORE DELETE ON ward FOR EACH ROW INSERT INTO audit VALUES (OLD.name)",
		"CREATE TABLE legacy (id int PRIMARY KEY, name varchar(10)) ENGINE=MyISAM",
	)
	for _, tt := range []struct {
		first, want string
	}{
		{"patient", "ward has trigger ward_audit"},
		{"legacy", "legacy uses the MyISAM engine"},
	} {
		before := rowsOf(t, d, tt.first)
		err := rewrite(context.Background(), d, "run1", group(t, d, tt.first), anonymise(d))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error with %q", tt.first, err, tt.want)
		}
		if got := rowsOf(t, d, tt.first); !reflect.DeepEqual(got, before) {
			t.Errorf("%s changed: got %#v, want %#v", tt.first, got, before)
		}
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		dsn                         string
		user, pass, net, addr, name string
		params                      map[string]string
		err                         string
	}{
		{dsn: "mysql://root@127.0.0.1:3306/test", user: "root", net: "tcp", addr: "127.0.0.1:3306", name: "test"},
		{dsn: "mariadb://u:p%40ss@db.example:3307/hosp?tls=skip-verify&wait_timeout=60", user: "u", pass: "p@ss", net: "tcp",
			addr: "db.example:3307", name: "hosp", params: map[string]string{"wait_timeout": "60"}},
		{dsn: "mysql://u:secret@db.example/hosp", user: "u", pass: "secret", net: "tcp", addr: "db.example:3306", name: "hosp"},
		{dsn: "mysql://u@/hosp?socket=/run/mysqld/mysqld.sock", user: "u", net: "unix", addr: "/run/mysqld/mysqld.sock", name: "hosp"},
		{dsn: "mysql://u:secret@db.example:3306/", err: "name one database"},
		{dsn: "mysql://u:secret@db.example:3306/hosp?collation=latin1_bin", err: "not a utf8mb4 collation"},
		{dsn: "mysql://u:secret@db.example:bad/hosp", err: "invalid MySQL DSN"},
	}
	for _, tt := range tests {
		d, err := database.ParseDSN(tt.dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config(d)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: got error %v, want one with %q and no password", tt.dsn, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.dsn, err)
			continue
		}
		if cfg.User != tt.user || cfg.Passwd != tt.pass || cfg.Net != tt.net || cfg.Addr != tt.addr || cfg.DBName != tt.name {
			t.Errorf("%s: got %s:%s@%s(%s)/%s, want %s:%s@%s(%s)/%s", tt.dsn, cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName,
				tt.user, tt.pass, tt.net, tt.addr, tt.name)
		}
		if cfg.ParseTime || cfg.MultiStatements || !cfg.InterpolateParams || cfg.MaxAllowedPacket != 0 {
			t.Errorf("%s: got parseTime %v multiStatements %v interpolateParams %v maxAllowedPacket %d, want false false true 0",
				tt.dsn, cfg.ParseTime, cfg.MultiStatements, cfg.InterpolateParams, cfg.MaxAllowedPacket)
		}
		for k, v := range tt.params {
			if cfg.Params[k] != v {
				t.Errorf("%s: got param %s=%q, want %q", tt.dsn, k, cfg.Params[k], v)
			}
		}
		if cfg.Params["time_zone"] != "'+00:00'" || !strings.Contains(cfg.Params["sql_mode"], "NO_AUTO_VALUE_ON_ZERO") {
			t.Errorf("%s: got session params %v, want time_zone and sql_mode", tt.dsn, cfg.Params)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	good := dbtest.MySQLName(t) // skips without a server
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A database that does not exist, without create.
	_, err := database.Open(ctx, good)
	if err == nil || !strings.Contains(err.Error(), "steward_test_") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("open of a missing database: got %v, want an error naming it and the host", err)
	}
	// A wrong password is not printed.
	bad := strings.Replace(good, "mysql://root@", "mysql://root:hunter2@", 1)
	_, err = database.OpenTarget(ctx, bad)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("open with a wrong password: got %v, want an error without the password", err)
	}
}

// BenchmarkWriter loads 200,000 rows a round by each method: go test -bench Writer -run '^$'.
func BenchmarkWriter(b *testing.B) {
	const rows = 200_000
	for _, bm := range []struct {
		name   string
		method loadMethod
	}{{"insert", methodInsert}, {"loaddata", methodLoadData}} {
		b.Run(bm.name, func(b *testing.B) {
			d := openTest(b, dbtest.MySQL(b))
			d.method = bm.method
			ctx := context.Background()
			tb := &database.Table{Name: "visit", Columns: []*database.Column{
				{Name: "id", Type: database.Integer, Native: "bigint", NotNull: true},
				{Name: "patient", Type: database.Text, Native: "varchar(40)", Length: 40},
				{Name: "seen", Type: database.Timestamp, Native: "datetime"},
				{Name: "amount", Type: database.Decimal, Native: "decimal(10,2)"},
				{Name: "notes", Type: database.Text, Native: "text"},
				{Name: "score", Type: database.Float, Native: "double"},
			}, PrimaryKey: []string{"id"}}
			row := make(database.Row, 6)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				execAll(b, d, "DROP TABLE IF EXISTS visit")
				if err := d.CreateTables(ctx, &database.Schema{Tables: []*database.Table{tb}}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				w, err := d.Writer(ctx, tb)
				if err != nil {
					b.Fatal(err)
				}
				for j := range rows {
					row[0] = int64(j)
					row[1] = fmt.Sprintf("Patient Zoë %d", j)
					row[2] = "2024-01-02 03:04:05"
					row[3] = "1234.56"
					row[4] = "a note with a tab\tand a quote ' in it"
					row[5] = float64(j) / 7
					if err := w.Write(row); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
