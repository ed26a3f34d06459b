// Package postgres is Steward's adapter for PostgreSQL, through pgx.
//
// Rows move by COPY in both directions. Scan reads COPY's text format: every value is the
// text PostgreSQL prints. ScanPassing and the writers move a table by binary COPY when all
// its columns are of the types this package codes (binaryKinds: the text types, integers,
// floats, numeric, boolean, date, timestamps, bytea, uuid, inet, cidr, json, jsonb), and in
// COPY's text format otherwise (arrays, ranges, enums, domains, user types): each side
// decides from the table's columns alone, so both always agree. Either way a value no rule
// touches is copied exactly: ScanPassing hands the columns a copy keeps over as COPY sent
// them and a copyWriter writes them back as they came, neither decoded nor encoded (nor
// escaped, in text). Binary COPY spares the server its output and input functions for them.
//
// Every other value ScanPassing hands over is the string COPY's text format would give on
// the same connection, in either format: in binary, the reader prints the text types,
// integers, booleans and uuids, and dates and timestamps when DateStyle is ISO; the server
// prints the rest, whose text depends on the session (TimeZone, extra_float_digits,
// bytea_output, DateStyle), by its output functions (see planBinary). The binary writer
// encodes the plain forms PostgreSQL prints itself and has the server read any other string
// with the writing session's settings, as COPY's text format would have (see resolver).
//
// A copy creates each table with its columns only, loads it by COPY FROM STDIN, then adds
// primary keys, unique and check constraints, indexes, identity and serial sequences (moved
// past the largest value), and foreign keys last.
//
// In-place mode (Rewrite) works on a group of tables that transformed foreign keys tie
// together, on one connection, in one transaction:
//  0. it takes a transaction-level advisory lock, which one rewrite of the database holds at
//     a time (a killed run's transaction keeps it until the server has rolled it back), and
//     reads the ledger again under it: a group already recorded is left alone;
//  1. each table's transformed rows are loaded by COPY into a temporary staging table
//     (LIKE the original, dropped at commit), reading the originals on other connections;
//  2. the foreign keys that touch the group are dropped, the group's tables are truncated
//     together and refilled from staging, and the foreign keys are added back (and so
//     checked again);
//  3. the group is recorded in steward_progress (run, table, key fingerprint, normalised
//     policy and its digest, when), and the transaction commits.
//
// PostgreSQL's DDL and TRUNCATE are transactional, so a run killed at any point leaves every
// table of the group as it was and unrecorded; the next run redoes that group from the
// original values. Indexes are kept, so user triggers on INSERT fire during step 2.
//
// TRUNCATE gives the tables new files and empties the old ones at commit, so no original row
// stays in the tables' files. What does stay is what ANALYZE sampled from the originals into
// pg_statistic (most common values, histogram bounds; compressed in its TOAST table when
// large) and pg_statistic_ext_data: ClearResidue analyzes the rewritten tables again and
// rewrites those catalogs with VACUUM FULL, once no session of the database holds an older
// snapshot. The write-ahead log (pg_wal) is the server's: it holds whatever was written to
// any database until its segments are recycled, originals included; it never travels in a
// bundle (pg_dump).
package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stewardhealth/steward/internal/database"
)

func init() { database.Register(database.Postgres, Open) }

// DB is a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	name string
}

// Open connects; with create, a database that does not exist yet is created.
func Open(ctx context.Context, dsn database.DSN, create bool) (database.DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn.Raw)
	if err != nil {
		return nil, fmt.Errorf("postgres DSN: %w", database.RedactError(err))
	}
	cfg.MaxConns = max(cfg.MaxConns, 6)
	name := cfg.ConnConfig.Database
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	var pgErr *pgconn.PgError
	if err != nil && create && errors.As(err, &pgErr) && pgErr.Code == "3D000" {
		pool.Close()
		if err := createDatabase(ctx, dsn.Raw, name); err != nil {
			return nil, err
		}
		return Open(ctx, dsn, false)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("connect to postgres database %s: %w", name, database.RedactError(err))
	}
	return &DB{pool: pool, name: name}, nil
}

func createDatabase(ctx context.Context, raw, name string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+quote(name)); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// Kind is database.Postgres.
func (d *DB) Kind() database.Kind { return database.Postgres }

// Close closes the connections.
func (d *DB) Close() error { d.pool.Close(); return nil }

// Schema reads the base tables of the current schema.
func (d *DB) Schema(ctx context.Context) (*database.Schema, error) {
	rows, err := d.pool.Query(ctx, `
		SELECT c.relname, greatest(c.reltuples, 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND c.relname <> 'steward_progress'
		ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	s := &database.Schema{}
	for rows.Next() {
		t := &database.Table{}
		if err := rows.Scan(&t.Name, &t.Rows); err != nil {
			rows.Close()
			return nil, err
		}
		s.Tables = append(s.Tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, t := range s.Tables {
		if err := d.describe(ctx, t); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	return s, nil
}

func (d *DB) describe(ctx context.Context, t *database.Table) error {
	rel := quote(t.Name)
	rows, err := d.pool.Query(ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod), ty.typname, a.atttypmod, a.attnotnull,
		       coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), a.attidentity <> '', a.attgenerated <> ''
		FROM pg_attribute a
		JOIN pg_type ty ON ty.oid = a.atttypid
		LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, rel)
	if err != nil {
		return err
	}
	for rows.Next() {
		c := &database.Column{}
		var typname string
		var typmod int32
		var identity, generated bool
		if err := rows.Scan(&c.Name, &c.Native, &typname, &typmod, &c.NotNull, &c.Default, &identity, &generated); err != nil {
			rows.Close()
			return err
		}
		if generated {
			rows.Close()
			return fmt.Errorf("column %s is generated: Steward does not copy generated columns yet", c.Name)
		}
		c.Type, c.Bits = columnType(typname)
		if c.Type == database.Text && typmod > 4 {
			c.Length = int(typmod - 4)
		}
		c.Identity = identity || strings.HasPrefix(c.Default, "nextval(")
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = d.pool.Query(ctx, `
		SELECT con.conname, con.contype, pg_get_constraintdef(con.oid),
		       coalesce(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
		                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i), '{}'),
		       coalesce(rc.relname, ''),
		       coalesce(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
		                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i), '{}')
		FROM pg_constraint con LEFT JOIN pg_class rc ON rc.oid = con.confrelid
		WHERE con.conrelid = $1::regclass AND con.contype IN ('p', 'u', 'f', 'c')
		ORDER BY con.conname`, rel)
	if err != nil {
		return err
	}
	for rows.Next() {
		var name, typ, def, ref string
		var cols, refCols []string
		if err := rows.Scan(&name, &typ, &def, &cols, &ref, &refCols); err != nil {
			rows.Close()
			return err
		}
		full := "CONSTRAINT " + quote(name) + " " + def
		switch typ {
		case "p":
			t.PrimaryKey = cols
		case "u":
			t.Indexes = append(t.Indexes, &database.Index{Name: name, Columns: cols, Unique: true, Def: full})
		case "f":
			t.ForeignKeys = append(t.ForeignKeys, &database.ForeignKey{Name: name, Columns: cols, RefTable: ref, RefColumns: refCols, Def: full})
		case "c":
			t.Checks = append(t.Checks, full)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(t.PrimaryKey) > 0 {
		// Keep the primary key's own name and definition for the copy.
		var name, def string
		if err := d.pool.QueryRow(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, rel).Scan(&name, &def); err != nil {
			return err
		}
		t.Def = "CONSTRAINT " + quote(name) + " " + def
	}

	rows, err = d.pool.Query(ctx, `
		SELECT ic.relname, ix.indisunique, pg_get_indexdef(ix.indexrelid),
		       coalesce(ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(n, i)
		                      JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n ORDER BY k.i), '{}'),
		       0 = ALL(ix.indkey::int2[]) IS FALSE AND ix.indexprs IS NULL
		FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid
		WHERE ix.indrelid = $1::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid)
		ORDER BY ic.relname`, rel)
	if err != nil {
		return err
	}
	for rows.Next() {
		ix := &database.Index{}
		var plain bool
		if err := rows.Scan(&ix.Name, &ix.Unique, &ix.Def, &ix.Columns, &plain); err != nil {
			rows.Close()
			return err
		}
		if !plain {
			ix.Columns = nil
		}
		t.Indexes = append(t.Indexes, ix)
	}
	rows.Close()
	return rows.Err()
}

func columnType(typname string) (database.Type, int) {
	switch typname {
	case "varchar", "bpchar", "text", "citext", "name":
		return database.Text, 0
	case "int2":
		return database.Integer, 16
	case "int4":
		return database.Integer, 32
	case "int8":
		return database.Integer, 64
	case "float4", "float8":
		return database.Float, 0
	case "numeric":
		return database.Decimal, 0
	case "bool":
		return database.Bool, 0
	case "date":
		return database.Date, 0
	case "timestamp", "timestamptz":
		return database.Timestamp, 0
	case "bytea":
		return database.Bytes, 0
	case "inet", "cidr":
		return database.Inet, 0
	}
	return database.Other, 0
}

func columnList(t *database.Table) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quote(c.Name)
	}
	return strings.Join(cols, ", ")
}

// Scan streams t by COPY TO STDOUT, in COPY's text format.
func (d *DB) Scan(ctx context.Context, t *database.Table, fn func(database.Row) error) error {
	return d.scan(ctx, t, newLineReader(len(t.Columns), nil, false, fn))
}

// ScanPassing is Scan with the columns pass marks handed over as COPY sent them, for a
// copyWriter to write back without decoding or encoding them again. A table whose columns
// all have a known kind (binaryKinds) is read by binary COPY, the others in COPY's text
// format; the values of the other columns are the same strings either way. Its consumer
// lets go of the rows it is handed once written, so the rows' bytes are kept in shared
// 64 KiB blocks rather than a string a row (see lineReader.text).
func (d *DB) ScanPassing(ctx context.Context, t *database.Table, pass []bool, fn func(database.Row) error) error {
	kinds := binaryKinds(t)
	if kinds == nil {
		return d.scan(ctx, t, newLineReader(len(t.Columns), pass, true, fn))
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	iso := strings.HasPrefix(pc.ParameterStatus("DateStyle"), "ISO") && pc.ParameterStatus("integer_datetimes") == "on"
	plan := planBinary(kinds, pass, iso)
	if plan.printed {
		// The server prints some columns, so the COPY reads a query of the table alone, which
		// of a partitioned table is nothing: that stays a COPY of the table, in text, which
		// PostgreSQL refuses as it always has.
		var relkind string
		if err := conn.QueryRow(ctx, "SELECT relkind::text FROM pg_class WHERE oid = $1::regclass", quote(t.Name)).Scan(&relkind); err != nil {
			return fmt.Errorf("read %s: %w", t.Name, database.RedactError(err))
		}
		if relkind != "r" {
			conn.Release()
			return d.scan(ctx, t, newLineReader(len(t.Columns), pass, true, fn))
		}
	}
	return copyOut(ctx, pc, t, plan.statement(t), newBinaryReader(t, plan, fn))
}

func (d *DB) scan(ctx context.Context, t *database.Table, lr *lineReader) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return copyOut(ctx, conn.Conn().PgConn(), t, "COPY "+quote(t.Name)+" ("+columnList(t)+") TO STDOUT", lr)
}

// copyReader takes the stream of a COPY … TO STDOUT.
type copyReader interface {
	io.Writer
	// failed gives, once COPY has stopped, the error of the function rows are handed to, or
	// else what is wrong with the stream.
	failed() (fnErr, bad error)
	// finish says whether the stream, which the server ended well, ended at a row's end.
	finish() error
}

// copyOut runs sql, a COPY … TO STDOUT, into r. The errors of r's function come back as they
// are; the others name the table, never a value.
func copyOut(ctx context.Context, pc *pgconn.PgConn, t *database.Table, sql string, r copyReader) error {
	_, err := pc.CopyTo(ctx, r, sql)
	return copyResult(t, r, err)
}

// copyResult is what a scan of t returns once COPY has stopped, with err.
func copyResult(t *database.Table, r copyReader, err error) error {
	if fnErr, bad := r.failed(); fnErr != nil {
		return fnErr
	} else if bad != nil {
		return fmt.Errorf("read %s: %w", t.Name, bad)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Name, database.RedactError(err))
	}
	if err := r.finish(); err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	return nil
}

// Parallel is 2: a pipe per core.
func (d *DB) Parallel() int { return 2 }

// Existing names the relations and types of the current schema that a copy of s would
// create: its tables (each also a row type), their primary keys', unique constraints' and
// indexes' names (indexes share the tables' namespace) and their serial columns' sequences.
func (d *DB) Existing(ctx context.Context, s *database.Schema) ([]string, error) {
	var names, types []string
	for _, t := range s.Tables {
		names = append(names, t.Name)
		types = append(types, t.Name)
		if name, ok := constraintName(t.Def); ok {
			names = append(names, name)
		}
		for _, ix := range t.Indexes {
			names = append(names, ix.Name)
		}
		for _, c := range t.Columns {
			if c.Identity && strings.HasPrefix(c.Default, "nextval(") {
				names = append(names, t.Name+"_"+c.Name+"_seq")
			}
		}
	}
	rows, err := d.pool.Query(ctx, `
		SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
		       WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'relation' END || ' ' || c.relname
		FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1)
		UNION
		SELECT 'type ' || ty.typname FROM pg_type ty
		WHERE ty.typnamespace = current_schema()::regnamespace AND ty.typname = ANY($2) AND ty.typrelid = 0
		ORDER BY 1`, names, types)
	if err != nil {
		return nil, fmt.Errorf("read what the target holds: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// constraintName reads the name out of a "CONSTRAINT "name" …" definition.
func constraintName(def string) (string, bool) {
	rest, ok := strings.CutPrefix(def, `CONSTRAINT "`)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		if rest[i] == '"' {
			if i+1 < len(rest) && rest[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			return b.String(), true
		}
		b.WriteByte(rest[i])
	}
	return "", false
}

// CreateTables creates every table with its columns only.
func (d *DB) CreateTables(ctx context.Context, s *database.Schema) error {
	for _, t := range s.Tables {
		if _, err := d.pool.Exec(ctx, createTable(t, quote(t.Name), false)); err != nil {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
	}
	return nil
}

func createTable(t *database.Table, name string, temp bool) string {
	var b strings.Builder
	if temp {
		b.WriteString("CREATE TEMP TABLE ")
	} else {
		b.WriteString("CREATE TABLE ")
	}
	b.WriteString(name)
	b.WriteString(" (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.Name))
		b.WriteByte(' ')
		b.WriteString(c.Native)
		if c.NotNull {
			b.WriteString(" NOT NULL")
		}
		if c.Default != "" && !c.Identity && !temp {
			b.WriteString(" DEFAULT ")
			b.WriteString(c.Default)
		}
	}
	b.WriteString(")")
	if temp {
		b.WriteString(" ON COMMIT DROP")
	}
	return b.String()
}

// Finish adds keys, constraints, indexes, sequences and then foreign keys.
func (d *DB) Finish(ctx context.Context, s *database.Schema) error {
	for _, t := range s.Tables {
		rel := quote(t.Name)
		var stmts []string
		if t.Def != "" {
			stmts = append(stmts, "ALTER TABLE "+rel+" ADD "+t.Def)
		}
		for _, ix := range t.Indexes {
			if strings.HasPrefix(ix.Def, "CONSTRAINT ") {
				stmts = append(stmts, "ALTER TABLE "+rel+" ADD "+ix.Def)
			} else {
				stmts = append(stmts, ix.Def)
			}
		}
		for _, ck := range t.Checks {
			stmts = append(stmts, "ALTER TABLE "+rel+" ADD "+ck)
		}
		for _, c := range t.Columns {
			if !c.Identity || !(c.Type == database.Integer) {
				continue
			}
			col := quote(c.Name)
			if strings.HasPrefix(c.Default, "nextval(") {
				seq := quote(t.Name + "_" + c.Name + "_seq")
				stmts = append(stmts,
					"CREATE SEQUENCE "+seq+" OWNED BY "+rel+"."+col,
					"ALTER TABLE "+rel+" ALTER COLUMN "+col+" SET DEFAULT nextval('"+strings.ReplaceAll(seq, "'", "''")+"')")
			} else {
				stmts = append(stmts, "ALTER TABLE "+rel+" ALTER COLUMN "+col+" ADD GENERATED BY DEFAULT AS IDENTITY")
			}
			stmts = append(stmts, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
				strings.ReplaceAll(rel, "'", "''"), strings.ReplaceAll(c.Name, "'", "''"), col, rel))
		}
		for _, q := range stmts {
			if _, err := d.pool.Exec(ctx, q); err != nil {
				return fmt.Errorf("table %s: %w", t.Name, database.RedactError(err))
			}
		}
	}
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			if _, err := d.pool.Exec(ctx, "ALTER TABLE "+quote(t.Name)+" ADD "+fk.Def); err != nil {
				return fmt.Errorf("table %s, foreign key %s: %w", t.Name, fk.Name, database.RedactError(err))
			}
		}
	}
	// No ANALYZE: as after pg_restore, autovacuum gathers the copy's statistics within a
	// minute or so (a new table counts as changed throughout); ANALYZE cost a third as much
	// as the primary key's build, on the run's critical path.
	return nil
}

// Writer loads t by COPY FROM STDIN on a connection of its own, in the format ScanPassing
// reads t in.
func (d *DB) Writer(ctx context.Context, t *database.Table) (database.RowWriter, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return startCopy(ctx, conn.Conn().PgConn(), quote(t.Name), t, conn.Release, d.binaryWriter(ctx, t)), nil
}

// binaryWriter is the encoder of t's rows for binary COPY, or nil when t moves in COPY's text
// format (see binaryKinds).
func (d *DB) binaryWriter(ctx context.Context, t *database.Table) *binaryWriter {
	kinds := binaryKinds(t)
	if kinds == nil {
		return nil
	}
	return &binaryWriter{ctx: ctx, table: t, kinds: kinds, res: resolver{pool: d.pool}}
}

type copyWriter struct {
	pw      *io.PipeWriter
	bw      *bufio.Writer
	bin     *binaryWriter // nil: COPY's text format
	buf     []byte
	done    chan error
	rows    int64
	table   string
	release func()
	closed  bool
}

// startCopy starts COPY rel FROM STDIN with t's columns: binary with bin, else text.
func startCopy(ctx context.Context, pc *pgconn.PgConn, rel string, t *database.Table, release func(), bin *binaryWriter) *copyWriter {
	pr, pw := io.Pipe()
	w := &copyWriter{pw: pw, bw: bufio.NewWriterSize(pw, 256<<10), bin: bin, done: make(chan error, 1), table: t.Name, release: release}
	sql := "COPY " + rel + " (" + columnList(t) + ") FROM STDIN"
	if bin != nil {
		sql += " (FORMAT binary)"
		w.bw.Write(binaryHeader) // into the buffer: no error before it is flushed
	}
	go func() {
		_, err := pc.CopyFrom(ctx, pr, sql)
		pr.CloseWithError(err)
		w.done <- err
	}()
	return w
}

func (w *copyWriter) Write(row database.Row) error {
	var err error
	if w.bin != nil {
		w.buf, err = w.bin.appendRow(w.buf[:0], row)
	} else {
		w.buf, err = appendRow(w.buf[:0], row)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", w.table, err)
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("copy into %s: %w", w.table, database.RedactError(err))
	}
	w.rows++
	return nil
}

func (w *copyWriter) Close() (int64, error) {
	if w.closed {
		return w.rows, nil
	}
	w.closed = true
	var err error
	if w.bin != nil {
		_, err = w.bw.Write(binaryTrailer)
	}
	if err == nil {
		err = w.bw.Flush()
	}
	w.pw.CloseWithError(err)
	if cerr := <-w.done; cerr != nil {
		err = cerr
	}
	if w.release != nil {
		w.release()
	}
	if err != nil {
		return 0, fmt.Errorf("copy into %s: %w", w.table, database.RedactError(err))
	}
	return w.rows, nil
}

func (w *copyWriter) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.pw.CloseWithError(errors.New("load aborted"))
	<-w.done
	if w.release != nil {
		w.release()
	}
}
