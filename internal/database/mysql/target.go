package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/go-sql-driver/mysql"
	"github.com/stewardhealth/steward/internal/database"
)

// Parallel is how many tables the engine loads at once.
func (d *DB) Parallel() int { return 2 }

// Existing names the tables and views of the database that a copy of s would create, and the
// foreign key names it would take (InnoDB keeps them per database).
func (d *DB) Existing(ctx context.Context, s *database.Schema) ([]string, error) {
	var tables, fks []any
	for _, t := range s.Tables {
		tables = append(tables, t.Name)
		for _, fk := range t.ForeignKeys {
			fks = append(fks, fk.Name)
		}
	}
	var out []string
	read := func(q string, args []any) error {
		if len(args) == 0 {
			return nil
		}
		rows, err := d.db.QueryContext(ctx, q+" ("+strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")+") ORDER BY 1", args...)
		if err != nil {
			return d.errorf("read what is in", err)
		}
		return each(rows, func() error {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
	}
	if err := read(`SELECT CONCAT(IF(TABLE_TYPE = 'VIEW', 'view ', 'table '), TABLE_NAME) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN`, tables); err != nil {
		return nil, err
	}
	if err := read(`SELECT CONCAT('foreign key ', CONSTRAINT_NAME, ' (on ', TABLE_NAME, ')') FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = DATABASE() AND CONSTRAINT_NAME IN`, fks); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateTables creates every table of s with its columns only, failing on one that exists.
func (d *DB) CreateTables(ctx context.Context, s *database.Schema) error {
	for _, t := range s.Tables {
		if _, err := d.db.ExecContext(ctx, createTable(t)); err != nil {
			var me *mysql.MySQLError
			if errors.As(err, &me) && me.Number == 1050 {
				return fmt.Errorf("create table %s in MySQL database %s on %s: it already exists; a copy target must not have it",
					t.Name, d.name, d.host)
			}
			return d.errorf("create table "+t.Name+" in", err)
		}
	}
	return nil
}

// createTable is the CREATE TABLE statement of t without keys, indexes or AUTO_INCREMENT.
func createTable(t *database.Table) string {
	m := metaOf(t)
	var b strings.Builder
	b.WriteString("CREATE TABLE " + quoteIdent(t.Name) + " (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(columnDef(c, m.column(c.Name), false))
	}
	b.WriteString(") ENGINE=InnoDB")
	if m != nil && m.collation != "" {
		b.WriteString(" DEFAULT COLLATE=" + m.collation)
	} else {
		b.WriteString(" DEFAULT CHARSET=utf8mb4")
	}
	return b.String()
}

// columnDef is the definition of c in CREATE TABLE or ALTER TABLE … MODIFY.
func columnDef(c *database.Column, cm *columnMeta, autoIncrement bool) string {
	s := quoteIdent(c.Name) + " " + c.Native
	if cm != nil && cm.collation != "" && !strings.EqualFold(c.Native, "json") {
		s += " CHARACTER SET " + cm.charset + " COLLATE " + cm.collation
	}
	if cm != nil && cm.generated != "" {
		s += " GENERATED ALWAYS AS (" + cm.generated + ")"
		if cm.stored {
			return s + " STORED"
		}
		return s + " VIRTUAL"
	}
	if c.NotNull || autoIncrement {
		s += " NOT NULL"
	}
	if c.Default != "" && !autoIncrement {
		s += " DEFAULT " + c.Default
	}
	if cm != nil && cm.onUpdate != "" {
		s += " ON UPDATE " + cm.onUpdate
	}
	if autoIncrement {
		s += " AUTO_INCREMENT"
	}
	return s
}

// Writer loads t in one transaction on a connection of its own, with unique and foreign key
// checks off.
func (d *DB) Writer(ctx context.Context, t *database.Table) (database.RowWriter, error) {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return nil, d.errorf("load "+t.Name+" into", err)
	}
	fail := func(err error) (database.RowWriter, error) {
		discard(conn)
		return nil, d.errorf("load "+t.Name+" into", err)
	}
	if _, err := conn.ExecContext(ctx, "SET unique_checks = 0, foreign_key_checks = 0"); err != nil {
		return fail(err)
	}
	tg, err := newTarget(ctx, conn, t, t.Name, t.Name)
	if err != nil {
		return fail(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	w, err := d.newWriter(ctx, tx, tg)
	if err != nil {
		tx.Rollback()
		return fail(err)
	}
	return &txWriter{rowWriter: w, tx: tx, conn: conn, d: d, table: t.Name}, nil
}

// txWriter commits or rolls back the writer's transaction and gives its connection back.
type txWriter struct {
	rowWriter
	tx    *sql.Tx
	conn  *sql.Conn
	d     *DB
	table string
	done  bool
}

func (w *txWriter) Close() (int64, error) {
	if w.done {
		return 0, errClosed
	}
	w.done = true
	n, err := w.rowWriter.Close()
	if err != nil {
		w.tx.Rollback()
		discard(w.conn)
		return 0, err
	}
	if err := w.tx.Commit(); err != nil {
		discard(w.conn)
		return 0, w.d.errorf("load "+w.table+" into", err)
	}
	if _, err := w.conn.ExecContext(context.Background(), "SET unique_checks = DEFAULT, foreign_key_checks = DEFAULT"); err != nil {
		discard(w.conn)
		return n, nil
	}
	w.conn.Close()
	return n, nil
}

func (w *txWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.rowWriter.Abort()
	w.tx.Rollback()
	discard(w.conn)
}

// Finish adds, table by table (two at a time), the primary key, indexes, AUTO_INCREMENT and
// CHECK constraints, then the foreign keys of every table.
func (d *DB) Finish(ctx context.Context, s *database.Schema) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan *database.Table)
	)
	for range d.Parallel() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				if err := d.finishTable(ctx, t); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, t := range s.Tables {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- t
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}

	conn, err := d.db.Conn(ctx)
	if err != nil {
		return d.errorf("add foreign keys to", err)
	}
	defer discard(conn) // it has foreign_key_checks off
	// Without the checks InnoDB adds a foreign key in place, without reading the tables.
	if _, err := conn.ExecContext(ctx, "SET foreign_key_checks = 0"); err != nil {
		return d.errorf("add foreign keys to", err)
	}
	for _, t := range s.Tables {
		var adds []string
		for _, fk := range t.ForeignKeys {
			def := fk.Def
			if def == "" {
				def = "CONSTRAINT " + quoteIdent(fk.Name) + " FOREIGN KEY (" + quoteIdents(fk.Columns) + ") REFERENCES " +
					quoteIdent(fk.RefTable) + " (" + quoteIdents(fk.RefColumns) + ")"
			}
			adds = append(adds, "ADD "+def)
		}
		if len(adds) == 0 {
			continue
		}
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+quoteIdent(t.Name)+" "+strings.Join(adds, ", ")); err != nil {
			return d.errorf("add the foreign keys of "+t.Name+" in", err)
		}
	}
	return nil
}

// finishTable builds t's keys in one ALTER TABLE, so that InnoDB rebuilds the table once.
func (d *DB) finishTable(ctx context.Context, t *database.Table) error {
	m := metaOf(t)
	var adds, separate []string
	if len(t.PrimaryKey) > 0 {
		adds = append(adds, "ADD PRIMARY KEY ("+quoteIdents(t.PrimaryKey)+")")
	}
	for _, ix := range t.Indexes {
		if clause, ok := indexClause(t.Name, ix); ok {
			adds = append(adds, clause)
		} else {
			separate = append(separate, ix.Def)
		}
	}
	if m != nil {
		for _, c := range m.checks {
			adds = append(adds, "ADD "+c)
		}
	}
	var auto *database.Column
	for _, c := range t.Columns {
		if c.Identity {
			auto = c
			break
		}
	}
	// The AUTO_INCREMENT column must lead a key: one of the ALTER's, or else one built first.
	autoLater := auto != nil && !leadsKey(t, auto.Name)
	run := func(q string) error {
		if _, err := d.db.ExecContext(ctx, q); err != nil {
			return d.errorf("finish table "+t.Name+" in", err)
		}
		return nil
	}
	autoClause := func() (string, error) {
		next, err := d.nextAutoIncrement(ctx, t.Name, auto.Name)
		if err != nil {
			return "", d.errorf("finish table "+t.Name+" in", err)
		}
		if m != nil && m.autoInc > next {
			next = m.autoInc
		}
		clause := "MODIFY " + columnDef(auto, m.column(auto.Name), true)
		if next > 0 {
			clause += ", AUTO_INCREMENT = " + strconv.FormatUint(next, 10)
		}
		return clause, nil
	}
	if auto != nil && !autoLater {
		clause, err := autoClause()
		if err != nil {
			return err
		}
		adds = append(adds, clause)
		auto = nil
	}
	if len(adds) > 0 {
		if err := run("ALTER TABLE " + quoteIdent(t.Name) + " " + strings.Join(adds, ", ")); err != nil {
			return err
		}
	}
	for _, q := range separate {
		if err := run(q); err != nil {
			return err
		}
	}
	if auto != nil {
		clause, err := autoClause()
		if err != nil {
			return err
		}
		return run("ALTER TABLE " + quoteIdent(t.Name) + " " + clause)
	}
	return nil
}

// leadsKey reports whether column is the first column of t's primary key or of an index that
// Finish adds in its ALTER TABLE.
func leadsKey(t *database.Table, column string) bool {
	if len(t.PrimaryKey) > 0 && t.PrimaryKey[0] == column {
		return true
	}
	for _, ix := range t.Indexes {
		if _, ok := indexClause(t.Name, ix); ok && len(ix.Columns) > 0 && ix.Columns[0] == column {
			return true
		}
	}
	return false
}

// indexClause turns an index's CREATE INDEX statement, as Schema writes it, into an ALTER
// TABLE clause; an index from elsewhere is built from its columns, or not at all.
func indexClause(table string, ix *database.Index) (string, bool) {
	for _, kind := range []string{"", "UNIQUE ", "FULLTEXT ", "SPATIAL "} {
		prefix := "CREATE " + kind + "INDEX " + quoteIdent(ix.Name) + " ON " + quoteIdent(table) + " "
		if rest, ok := strings.CutPrefix(ix.Def, prefix); ok {
			return "ADD " + kind + "INDEX " + quoteIdent(ix.Name) + " " + rest, true
		}
	}
	if ix.Def == "" && len(ix.Columns) > 0 {
		kind := ""
		if ix.Unique {
			kind = "UNIQUE "
		}
		return "ADD " + kind + "INDEX " + quoteIdent(ix.Name) + " (" + quoteIdents(ix.Columns) + ")", true
	}
	return "", false
}

// nextAutoIncrement is one past the largest value of column, 0 when the table is empty (or
// the largest is the type's maximum).
func (d *DB) nextAutoIncrement(ctx context.Context, table, column string) (uint64, error) {
	var max sql.NullString
	q := "SELECT MAX(" + quoteIdent(column) + ") FROM " + quoteIdent(table)
	if err := d.db.QueryRowContext(ctx, q).Scan(&max); err != nil {
		return 0, err
	}
	if !max.Valid {
		return 0, nil
	}
	n, err := strconv.ParseUint(max.String, 10, 64)
	if err != nil || n == ^uint64(0) {
		return 0, nil // negative, or nothing past it
	}
	return n + 1, nil
}
