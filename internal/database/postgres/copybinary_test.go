package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
)

// allTypes has a column of every kind binary COPY knows, and rows of awkward values: the
// extremes of each type, infinities, BC and five-digit years, fractions PostgreSQL trims,
// padded char(n), empty strings, text with tabs, newlines and backslashes, bytes that are not
// UTF-8, and a row of NULLs. A child table inherits from it: a copy of the table leaves its
// rows out.
var allTypes = []string{
	`CREATE TABLE alltypes (id int4 PRIMARY KEY, i2 int2, i8 int8, f4 real, f8 double precision,
		num numeric, num2 numeric(10,2), b boolean, d date, ts timestamp, ts3 timestamp(3), tz timestamptz,
		t text, vc varchar(20), ch char(5), by bytea, u uuid, ip inet, net cidr, j json, jb jsonb)`,
	`INSERT INTO alltypes VALUES
		(1, -32768, -9223372036854775808, 'NaN', 'NaN', 'NaN', 0, true, 'infinity', 'infinity', 'infinity', 'infinity',
		 '', '', '', '', '00000000-0000-0000-0000-000000000000', '0.0.0.0', '0.0.0.0/0', '{}', '{}'),
		(2, 32767, 9223372036854775807, 'Infinity', '-Infinity', '-0.00', -12345678.91, false, '-infinity', '-infinity', '-infinity', '-infinity',
		 E'tab\there\nline\\back\\slash \\N', E'\t\n\\', 'ab', E'\\x00ff5c0a0d09c328', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
		 '192.168.1.5/24', '10.0.0.0/8', '{"a": [1, 2],  "b": "x\ty"}', '{"b": 1, "a": "x\ty"}'),
		(3, 0, 0, 3.4028235e38, 5e-324, '123456789.123456789', 0.5, true, '0044-03-15 BC', '0044-03-15 12:00:00 BC', '2024-01-31 12:00:00.1235', '0044-03-15 12:00:00+00 BC',
		 'Zoë — ünïcödé', 'plain', '', E'\\x', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::1', '2001:db8::/32', 'null', '[1, "two", null]'),
		(4, 1, 1, 1.4e-45, 0.1, '1e-20', 99999999.99, false, '10000-01-01', '294276-12-31 23:59:59.999999', '1999-12-31 23:59:59.9999', '1800-01-01 00:00:00+00',
		 'x', 'y', 'abcde', E'\\x80', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '::ffff:1.2.3.4', '192.168.0.0/16', '"s"', '"s"'),
		(5, -1, -1, -0, 0.30000000000000004, 'Infinity', -0.01, true, '4713-01-01 BC', '4713-01-01 00:00:00 BC', '2024-02-29 00:00:00', '2024-03-10 07:30:00.000001+00',
		 '\N', 'ends with space ', ' x', E'\\x5c4e', NULL, '2001:db8::1/64', '::/0', '1.5e3', '1.5e3'),
		(6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(7, 7, 7, 0.1, 1e300, '-Infinity', 1, true, '2024-02-29', '2024-01-31 12:00:00.5', '2024-01-31 12:00:00.000001', '2024-07-01 12:34:56.789+02',
		 'Jane', 'Doe', 'Z', E'\\xdeadbeef', '123e4567-e89b-12d3-a456-426614174000', '10.1.2.3', '10.1.2.0/24', '[]', '{"k": {"n": 1.50}}')`,
	`CREATE TABLE child (extra int) INHERITS (alltypes)`,
	`INSERT INTO child (id, t) VALUES (100, 'a child row')`,
}

// sessions are the session settings the tests read and write under: the defaults, zones
// that print local mean time and half-hour offsets, and a DateStyle, float digits and bytea
// output that change what COPY's text format prints.
var sessions = []struct {
	name   string
	params url.Values
}{
	{"defaults", nil},
	{"Paris", url.Values{"timezone": {"Europe/Paris"}}},
	{"Kolkata", url.Values{"timezone": {"Asia/Kolkata"}}},
	{"New York, SQL DMY, 0 float digits, escaped bytea", url.Values{"timezone": {"America/New_York"}, "datestyle": {"SQL,DMY"}, "extra_float_digits": {"0"}, "bytea_output": {"escape"}}},
	{"German", url.Values{"timezone": {"Australia/Lord_Howe"}, "datestyle": {"German"}}},
}

func withParams(t *testing.T, dsn string, params url.Values) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), database.DSN{Kind: database.Postgres, Raw: dsn}, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.(*DB)
}

func exec(t *testing.T, db *DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func table(t *testing.T, db *DB, name string) *database.Table {
	t.Helper()
	s, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tab := s.Table(name)
	if tab == nil {
		t.Fatalf("no table %s", name)
	}
	return tab
}

// collect reads every row of a scan, each value as it was handed over.
func collect(t *testing.T, scan func(func(database.Row) error) error) []database.Row {
	t.Helper()
	var rows []database.Row
	if err := scan(func(row database.Row) error {
		rows = append(rows, append(database.Row(nil), row...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// The binary reader decodes every value into the very string COPY's text format gives, in
// every session: what the rules, the dictionary and verify see does not change.
func TestBinaryScanMatchesText(t *testing.T) {
	dsn := dbtest.Postgres(t)
	exec(t, open(t, dsn), allTypes...)
	ctx := context.Background()
	for _, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			db := open(t, withParams(t, dsn, s.params))
			tab := table(t, db, "alltypes")
			if binaryKinds(tab) == nil {
				t.Fatal("alltypes would not be read by binary COPY")
			}
			text := collect(t, func(fn func(database.Row) error) error { return db.Scan(ctx, tab, fn) })
			bin := collect(t, func(fn func(database.Row) error) error { return db.ScanPassing(ctx, tab, nil, fn) })
			if len(text) != 7 || len(bin) != len(text) {
				t.Fatalf("got %d rows in binary and %d in text, want 7", len(bin), len(text))
			}
			for i := range text {
				for j, c := range tab.Columns {
					if !reflect.DeepEqual(bin[i][j], text[i][j]) {
						t.Errorf("row %d, %s (%s): binary gives %#v, text %#v", i+1, c.Name, c.Native, bin[i][j], text[i][j])
					}
				}
			}
		})
	}
}

// dump is a table's own rows (not its children's) as PostgreSQL prints them with the
// server's default settings, in the order of their id.
func dump(t *testing.T, dsn, name string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT x::text FROM ONLY "+quote(name)+" x ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyTable(t *testing.T, src *DB, tab *database.Table, pass []bool, w database.RowWriter) {
	t.Helper()
	err := src.ScanPassing(context.Background(), tab, pass, w.Write)
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A copy through ScanPassing and Writer, with some columns handed over undecoded and the
// others decoded and encoded again, holds exactly the source's values, between sessions
// whose time zones differ; so does a table rewritten in place.
func TestBinaryCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcDSN := dbtest.Postgres(t)
	exec(t, open(t, srcDSN), allTypes...)
	passes := map[string]func(i int) bool{
		"all decoded": func(int) bool { return false },
		"all passed":  func(int) bool { return true },
		"odd passed":  func(i int) bool { return i%2 == 1 },
		"even passed": func(i int) bool { return i%2 == 0 },
	}
	pairs := []struct{ src, dst url.Values }{
		{nil, nil},
		{url.Values{"timezone": {"America/New_York"}}, url.Values{"timezone": {"Asia/Kolkata"}}},
		{url.Values{"timezone": {"UTC"}, "datestyle": {"SQL,DMY"}}, url.Values{"timezone": {"Asia/Kolkata"}, "datestyle": {"SQL,DMY"}}},
	}
	want := dump(t, srcDSN, "alltypes")
	for pi, pair := range pairs {
		src := open(t, withParams(t, srcDSN, pair.src))
		tab := table(t, src, "alltypes")
		for name, passed := range passes {
			t.Run(fmt.Sprintf("sessions %d, %s", pi+1, name), func(t *testing.T) {
				pass := make([]bool, len(tab.Columns))
				for i := range pass {
					pass[i] = passed(i)
				}
				dstDSN := dbtest.PostgresName(t)
				dst := open(t, withParams(t, dstDSN, pair.dst))
				if err := dst.CreateTables(ctx, &database.Schema{Tables: []*database.Table{tab}}); err != nil {
					t.Fatal(err)
				}
				w, err := dst.Writer(ctx, tab)
				if err != nil {
					t.Fatal(err)
				}
				copyTable(t, src, tab, pass, w)
				sameRows(t, dump(t, dstDSN, "alltypes"), want)
			})
		}
	}

	t.Run("in place", func(t *testing.T) {
		db := open(t, withParams(t, srcDSN, url.Values{"timezone": {"Pacific/Chatham"}}))
		tab := table(t, db, "alltypes")
		pass := make([]bool, len(tab.Columns))
		for i := range pass {
			pass[i] = i%3 == 0
		}
		if _, err := db.Ledger(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := db.Rewrite(ctx, &database.RewriteGroup{
			Run:    database.Run{ID: "round-trip", Tables: 1},
			Tables: []*database.Table{tab},
			Check:  func([]database.Progress) (bool, error) { return false, nil },
			Fill: func(ctx context.Context, t *database.Table, w database.RowWriter) error {
				return db.ScanPassing(ctx, t, pass, w.Write)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, dump(t, srcDSN, "alltypes"), want)
	})
}

func sameRows(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, got[i], want[i])
		}
	}
}

// writerTable has a column of every kind, and writerValues the text a rule or a decoded
// value may give each: the plain forms the binary writer encodes itself, and others
// PostgreSQL also reads (spaces, signs, exponents, other date styles, timestamps without
// their offset, in and around daylight-saving changes), which it has the server read.
const writerTable = `CREATE TABLE w (id int4, i2 int2, i4 int4, i8 int8, f4 real, f8 double precision,
	num numeric, num2 numeric(6,2), b boolean, d date, ts timestamp, ts3 timestamp(3), tz timestamptz,
	by bytea, u uuid, ip inet, net cidr, ch char(5), vc varchar(3), t text, j json, jb jsonb)`

var writerValues = map[string][]any{
	"i2":   {"0", "-32768", "32767", "+5", " 7 ", "007", "-0", int64(40), int64(-32768)},
	"i4":   {"2147483647", "-2147483648", "+5", "  12", int64(90)},
	"i8":   {"9223372036854775807", "-9223372036854775808", "42", " -42 ", int64(1) << 62},
	"f4":   {"0.1", "3.4028235e+38", "1e-45", "-0", "NaN", "Infinity", "-Infinity", "inf", " 1.5 ", "1.5E3", "+2", "1.17549435e-38", float64(40), 0.1, int64(7)},
	"f8":   {"0.1", "1e308", "5e-324", "2.2250738585072014e-308", "-Infinity", "infinity", "NaN", "1e-320", ".5", "5.", "0x1p3", float64(90), int64(1)<<60 + 1, 0.30000000000000004},
	"num":  {"0", "-0", "40", "1e5", "1.5e-3", "Infinity", "NaN", "nan", "  12.50 ", "0.000", "123456789012345678901234567890.123456789", "-.5", "+1.", "00012.3400", int64(40), 0.1, float64(1e21)},
	"num2": {"40", "12.345", "-0.005", "9999.994", ".1", int64(90)},
	"b":    {"t", "f", "true", "false", "yes", "off", "1", " TRUE ", false, true},
	"d":    {"2024-01-31", "0044-03-15 BC", "10000-01-01", "infinity", "-infinity", "Jan 31 2024", "2024-1-5", "epoch", "J2451545", "20240131", "2024-02-29"},
	"ts":   {"2024-01-31 12:00:00", "2024-01-31 12:00:00.1234567", "2024-01-31T12:00:00", "2024-01-31 12:00", "2024-01-31 24:00:00", "2024-01-31 12:00:00+05", "0044-03-15 12:00:00 BC", "epoch", "2024-01-31 12:00:00.5", "infinity"},
	"ts3":  {"2024-01-31 12:00:00.12345", "2024-01-31 12:00:00.9995", "2024-01-31 23:59:59.9999"},
	"tz": {"2024-01-31 12:00:00+01", "2024-01-01 00:00:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00", "2024-01-31 12:00:00 EST",
		"2024-01-31 12:00:00Z", "1800-01-01 00:00:00", "0044-03-15 12:00:00 BC", "2024-01-31 12:00:00.123456+05:30", "infinity",
		"2024-10-06 02:15:00", "2024-04-07 01:45:00", "1800-01-01 00:00:00+00:09:21", "2024-03-31 02:30:00+01"},
	"by":  {`\x00ff`, `\xDEADbeef`, `abc\000`, `\x`, "plain", []byte{}, []byte{0, 0xff, '\\', '\n'}},
	"u":   {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", "a0eebc999c0b4ef8bb6d6bb9bd380a11"},
	"ip":  {"198.18.1.2", "10.0.0.0/8", "192.168.1.5/24", "::1", "2001:db8::1/64", "::ffff:1.2.3.4", "10.1.2.3/32", "2001:db8:0:0:0:0:0:1", "0.0.0.0/0"},
	"net": {"10.0.0.0/8", "10", "192.168.1.0", "2001:db8::/32", "128.1", "10.1.2.3/32"},
	"ch":  {"ab", "abcde", "ab   ", "abcde   ", "", " "},
	"vc":  {"abc", "ab", "", "abc  "},
	"t":   {"tab\there", `\N`, `back\slash`, "", "line\nbreak\r\n", "Zoë"},
	"j":   {" [1,2] ", "{}", `{"a":"x\ty"}`},
	"jb":  {`{"b":1,"a":2}`, " [1, 2] ", `"x"`},
}

// The binary writer stores what the text writer stores, for every value above, in sessions
// with other zones and date styles.
func TestBinaryWriterMatchesText(t *testing.T) {
	dsn := dbtest.Postgres(t)
	ctx := context.Background()
	for _, s := range []url.Values{
		nil,
		{"timezone": {"America/New_York"}},
		{"timezone": {"Australia/Lord_Howe"}, "datestyle": {"SQL,DMY"}},
	} {
		t.Run(s.Encode(), func(t *testing.T) {
			db := open(t, withParams(t, dsn, s))
			exec(t, db, "DROP TABLE IF EXISTS w, wb, wt", writerTable, "CREATE TABLE wb (LIKE w)", "CREATE TABLE wt (LIKE w)")
			tab := table(t, db, "w")
			var rows []database.Row
			for i := 0; ; i++ {
				row := make(database.Row, len(tab.Columns))
				row[0] = int64(i)
				more := false
				for j, c := range tab.Columns[1:] {
					if vs := writerValues[c.Name]; i < len(vs) {
						row[j+1], more = vs[i], true
					}
				}
				if !more {
					break
				}
				rows = append(rows, row)
			}
			for rel, bin := range map[string]*binaryWriter{"wb": db.binaryWriter(ctx, tab), "wt": nil} {
				if rel == "wb" && bin == nil {
					t.Fatal("w would not be written by binary COPY")
				}
				conn, err := db.pool.Acquire(ctx)
				if err != nil {
					t.Fatal(err)
				}
				w := startCopy(ctx, conn.Conn().PgConn(), rel, tab, conn.Release, bin)
				for _, row := range rows {
					if err := w.Write(row); err != nil {
						w.Abort()
						t.Fatalf("%s: %v", rel, err)
					}
				}
				if n, err := w.Close(); err != nil || n != int64(len(rows)) {
					t.Fatalf("%s: wrote %d rows of %d: %v", rel, n, len(rows), err)
				}
			}
			for _, q := range []string{
				"SELECT x::text FROM wb x EXCEPT ALL SELECT x::text FROM wt x",
				"SELECT x::text FROM wt x EXCEPT ALL SELECT x::text FROM wb x",
			} {
				r, err := db.pool.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				diff, err := pgx.CollectRows(r, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				if len(diff) > 0 {
					t.Errorf("%s:\n%s", q, strings.Join(diff, "\n"))
				}
			}
		})
	}
}

// A value PostgreSQL would refuse stops the binary copy as it stops the text one, with an
// error that names the table and never the value.
func TestBinaryWriterRefuses(t *testing.T) {
	dsn := dbtest.Postgres(t)
	ctx := context.Background()
	db := open(t, dsn)
	exec(t, db, writerTable)
	tab := table(t, db, "w")
	bad := map[string][]any{
		"i2":   {"SECRET", "32768", "1.5", "", int64(1) << 20},
		"i8":   {"9223372036854775808", "12SECRET"},
		"f4":   {"1e39", "1e-46", "SECRET"},
		"f8":   {"1e400", "1_000"},
		"num":  {"1.2.3", "SECRET", "1e"},
		"num2": {"123456", int64(100000)},
		"b":    {"SECRET", "2"},
		"d":    {"2023-02-29", "0000-01-01", "5874898-01-01", "SECRET"},
		"ts":   {"2024-01-31 25:00:00", "294277-01-01 00:00:00", "SECRET"},
		"tz":   {"2024-01-31 12:00:00+16", "SECRET 12:00"},
		"by":   {`\x0`, `\xzz`},
		"u":    {"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "SECRET"},
		"ip":   {"256.1.1.1", "1.2.3.4/33", "SECRET"},
		"net":  {"10.0.0.1/8", "SECRET"},
		"ch":   {"abcdef"},
		"vc":   {"abcd"},
		"jb":   {"{SECRET"},
	}
	for col, values := range bad {
		i := tab.ColumnIndex(col)
		for _, v := range values {
			row := make(database.Row, len(tab.Columns))
			row[i] = v
			for rel, bin := range map[string]*binaryWriter{"w": db.binaryWriter(ctx, tab), "w_text": nil} {
				if rel == "w_text" {
					rel = "w"
				}
				conn, err := db.pool.Acquire(ctx)
				if err != nil {
					t.Fatal(err)
				}
				w := startCopy(ctx, conn.Conn().PgConn(), rel, tab, conn.Release, bin)
				err = w.Write(row)
				if err == nil {
					_, err = w.Close()
				} else {
					w.Abort()
				}
				format := "binary"
				if bin == nil {
					format = "text"
				}
				if err == nil {
					t.Errorf("%s %v (%s): written", col, v, format)
					continue
				}
				msg := err.Error()
				named := strings.HasPrefix(msg, "w: column "+col+": ") || strings.HasPrefix(msg, "copy into w: ")
				if value := fmt.Sprint(v); !named || strings.Contains(msg, "SECRET") || len(value) > 3 && strings.Contains(msg, value) {
					t.Errorf("%s %v (%s): error %q should name the table and not the value", col, v, format, msg)
				}
			}
		}
	}
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM w").Scan(&n); err != nil || n != 0 {
		t.Errorf("w holds %d rows after refused copies (%v)", n, err)
	}
}

// A table with a column of a type binary COPY does not know (an array, an interval, an
// enum, a domain) moves in COPY's text format, passed, decoded and rewritten, as before.
func TestUnknownTypesStayText(t *testing.T) {
	ctx := context.Background()
	srcDSN := dbtest.Postgres(t)
	src := open(t, srcDSN)
	exec(t, src,
		`CREATE TYPE mood AS ENUM ('sad', 'ok')`,
		`CREATE DOMAIN mrn AS varchar(12) CHECK (VALUE LIKE 'MRN%')`,
		`CREATE TABLE odd (id int8, tags text[], stay interval, m mood, r mrn, at timestamptz, note text)`,
		`INSERT INTO odd VALUES (1, '{a,"b c",NULL}', '1 day 02:00', 'ok', 'MRN001', '2024-01-31 12:00:00+01', E'x\ty'),
			(2, '{}', '-3 mons', 'sad', 'MRN002', 'infinity', NULL), (3, NULL, NULL, NULL, NULL, NULL, '')`)
	tab := table(t, src, "odd")
	if binaryKinds(tab) != nil {
		t.Fatal("odd would be read by binary COPY")
	}
	want := dump(t, srcDSN, "odd")
	for _, pass := range [][]bool{nil, {false, true, true, true, true, false, true}, {true, false, false, false, false, true, false}} {
		dstDSN := dbtest.PostgresName(t)
		dst := open(t, dstDSN)
		exec(t, dst, `CREATE TYPE mood AS ENUM ('sad', 'ok')`, `CREATE DOMAIN mrn AS varchar(12) CHECK (VALUE LIKE 'MRN%')`)
		if err := dst.CreateTables(ctx, &database.Schema{Tables: []*database.Table{tab}}); err != nil {
			t.Fatal(err)
		}
		w, err := dst.Writer(ctx, tab)
		if err != nil {
			t.Fatal(err)
		}
		if w.(*copyWriter).bin != nil {
			t.Fatal("the writer of odd writes binary COPY")
		}
		copyTable(t, src, tab, pass, w)
		sameRows(t, dump(t, dstDSN, "odd"), want)
	}
}

// PostgreSQL refuses a COPY of a partitioned table; when the server would print some of its
// columns, the read stays that COPY rather than a query of the table alone, which would
// silently read no rows.
func TestPartitionedTableNotReadEmpty(t *testing.T) {
	ctx := context.Background()
	db := open(t, dbtest.Postgres(t))
	exec(t, db,
		`CREATE TABLE visit (id int8, at timestamptz) PARTITION BY RANGE (id)`,
		`CREATE TABLE visit_1 PARTITION OF visit FOR VALUES FROM (0) TO (100)`,
		`INSERT INTO visit VALUES (1, now())`)
	s, err := db.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tab := s.Table("visit")
	if tab == nil || binaryKinds(tab) == nil {
		t.Fatal("no table visit of known kinds")
	}
	n := 0
	err = db.ScanPassing(ctx, tab, nil, func(database.Row) error { n++; return nil })
	if err == nil {
		t.Fatalf("a partitioned table read without error, %d rows", n)
	}
}

// stream builds a binary COPY stream of rows of byte fields (nil: NULL).
func stream(rows ...[][]byte) []byte {
	b := append([]byte(nil), binaryHeader...)
	for _, row := range rows {
		b = binary.BigEndian.AppendUint16(b, uint16(len(row)))
		for _, f := range row {
			if f == nil {
				b = binary.BigEndian.AppendUint32(b, math.MaxUint32)
				continue
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
	}
	return append(b, binaryTrailer...)
}

func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// readerTable is the table the reader tests read: a bigint, a passed text and a text.
var readerTable = &database.Table{Name: "patient", Columns: []*database.Column{
	{Name: "id", Type: database.Integer, Bits: 64, Native: "bigint"},
	{Name: "name", Type: database.Text, Native: "text"},
	{Name: "note", Type: database.Text, Native: "text"},
}}

const secret = "SECRET-Jane-Doe"

// read feeds s to a binary reader of readerTable in pieces of n bytes and gives its rows and
// the error the scan would return.
func read(s []byte, n int) ([]database.Row, error) {
	plan := planBinary(binaryKinds(readerTable), []bool{false, true, false}, true)
	var rows []database.Row
	r := newBinaryReader(readerTable, plan, func(row database.Row) error {
		rows = append(rows, append(database.Row(nil), row...))
		return nil
	})
	for len(s) > 0 {
		k := min(n, len(s))
		if _, err := r.Write(s[:k]); err != nil {
			break
		}
		s = s[k:]
	}
	return rows, copyResult(readerTable, r, nil)
}

// Rows come out whole however the stream is cut; a stream cut short, a row with the wrong
// number of fields, a field of the wrong size and anything after the trailer are errors that
// name the table and never a value.
func TestBinaryReader(t *testing.T) {
	good := stream(
		[][]byte{be64(1), []byte(secret), []byte("tab\there\\ \n")},
		[][]byte{be64(-42), nil, []byte("")},
		[][]byte{nil, []byte(""), nil},
	)
	for _, n := range []int{1, 2, 3, 7, 19, 20, len(good)} {
		rows, err := read(good, n)
		if err != nil {
			t.Fatalf("pieces of %d bytes: %v", n, err)
		}
		if len(rows) != 3 {
			t.Fatalf("pieces of %d bytes: got %d rows, want 3", n, len(rows))
		}
		if rows[0][0] != "1" || rows[0][1].(*raw).b != secret || rows[0][2] != "tab\there\\ \n" {
			t.Fatalf("pieces of %d bytes: row 1 is %q %v %q", n, rows[0][0], rows[0][1], rows[0][2])
		}
		if rows[1][0] != "-42" || rows[1][1] != nil || rows[1][2] != "" {
			t.Fatalf("pieces of %d bytes: row 2 is %v", n, rows[1])
		}
		if rows[2][0] != nil || rows[2][1].(*raw).b != "" || rows[2][2] != nil {
			t.Fatalf("pieces of %d bytes: row 3 is %v", n, rows[2])
		}
	}

	bad := map[string][]byte{
		"wrong field count": stream([][]byte{be64(1), []byte(secret)}),
		"bigint of 3 bytes": stream([][]byte{[]byte("SEC"), []byte(secret), nil}),
		"after the trailer": append(stream([][]byte{be64(1), []byte(secret), nil}), secret...),
		"not binary":        []byte("1\t" + secret + "\t\\N\n"),
		"negative length":   append(stream()[:19], 0, 3, 0xff, 0xff, 0xff, 0xfe),
	}
	for i := 1; i < len(good); i++ {
		bad[fmt.Sprintf("cut at byte %d", i)] = good[:i]
	}
	for name, s := range bad {
		_, err := read(s, 5)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "patient") || strings.Contains(msg, "SEC") || strings.Contains(msg, "Jane") {
			t.Errorf("%s: error %q should name the table and no value", name, msg)
		}
	}
}

// The reader never panics, and its errors never hold what the stream carries.
func FuzzBinaryReader(f *testing.F) {
	f.Add(stream([][]byte{be64(7), []byte(secret), []byte("x")}), 3)
	f.Add(stream([][]byte{nil, nil, nil}, [][]byte{be64(1), []byte(""), []byte(secret)}), 1)
	f.Fuzz(func(t *testing.T, s []byte, n int) {
		if n <= 0 {
			n = 1
		}
		_, err := read(s, n)
		if err != nil && bytes.Contains([]byte(err.Error()), []byte("SECRET")) {
			t.Fatalf("error holds a value: %v", err)
		}
	})
}
