package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"weak"

	"github.com/stewardhealth/steward/internal/database"
)

// ledgerTable records which tables a run has rewritten in place; Schema leaves it out.
const ledgerTable = database.LedgerTable

// tableMeta is what MySQL keeps about a table that the portable Schema has no field for.
type tableMeta struct {
	engine    string
	collation string // the table's default collation
	autoInc   uint64 // the AUTO_INCREMENT counter, 0 when none
	columns   map[string]*columnMeta
	checks    []string // CONSTRAINT name CHECK (…)
}

type columnMeta struct {
	charset, collation string
	onUpdate           string // e.g. current_timestamp()
	generated          string // the expression of a generated column
	stored             bool   // a STORED generated column, not VIRTUAL
}

// metas holds the tableMeta of the tables Schema returned, for as long as they live.
var (
	metaMu sync.Mutex
	metas  = map[weak.Pointer[database.Table]]*tableMeta{}
)

func setMeta(t *database.Table, m *tableMeta) {
	wp := weak.Make(t)
	metaMu.Lock()
	metas[wp] = m
	metaMu.Unlock()
	runtime.AddCleanup(t, func(wp weak.Pointer[database.Table]) {
		metaMu.Lock()
		delete(metas, wp)
		metaMu.Unlock()
	}, wp)
}

// metaOf returns what Schema recorded about t, or nil for a table from elsewhere.
func metaOf(t *database.Table) *tableMeta {
	metaMu.Lock()
	defer metaMu.Unlock()
	return metas[weak.Make(t)]
}

func (m *tableMeta) column(name string) *columnMeta {
	if m == nil {
		return nil
	}
	return m.columns[name]
}

// Schema reads the base tables of the current database from information_schema.
func (d *DB) Schema(ctx context.Context) (*database.Schema, error) {
	s, err := d.schema(ctx)
	if err != nil {
		return nil, d.errorf("read the schema of", err)
	}
	return s, nil
}

func (d *DB) schema(ctx context.Context) (*database.Schema, error) {
	tables := map[string]*database.Table{}
	meta := map[string]*tableMeta{}
	s := &database.Schema{}

	rows, err := d.db.QueryContext(ctx, `SELECT TABLE_NAME, COALESCE(ENGINE, ''), COALESCE(TABLE_COLLATION, ''),
		COALESCE(TABLE_ROWS, 0), COALESCE(AUTO_INCREMENT, 0)
		FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_NAME <> ?`, ledgerTable)
	if err != nil {
		return nil, err
	}
	err = each(rows, func() error {
		t, m := &database.Table{}, &tableMeta{columns: map[string]*columnMeta{}}
		if err := rows.Scan(&t.Name, &m.engine, &m.collation, &t.Rows, &m.autoInc); err != nil {
			return err
		}
		tables[t.Name], meta[t.Name] = t, m
		s.Tables = append(s.Tables, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	database.SortTables(s.Tables)

	if err := d.readColumns(ctx, tables, meta); err != nil {
		return nil, err
	}
	if err := d.readChecks(ctx, tables, meta); err != nil {
		return nil, err
	}
	if err := d.readIndexes(ctx, tables); err != nil {
		return nil, err
	}
	if err := d.readForeignKeys(ctx, tables); err != nil {
		return nil, err
	}
	for name, t := range tables {
		setMeta(t, meta[name])
	}
	return s, nil
}

// each calls fn for every row of rows and closes them.
func each(rows *sql.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (d *DB) readColumns(ctx context.Context, tables map[string]*database.Table, meta map[string]*tableMeta) error {
	rows, err := d.db.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
		COALESCE(CHARACTER_MAXIMUM_LENGTH, 0), IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
		COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''), COALESCE(GENERATION_EXPRESSION, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
		ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return err
	}
	return each(rows, func() error {
		var table, dataType, nullable, extra string
		var length int64
		var def sql.NullString
		c, cm := &database.Column{}, &columnMeta{}
		if err := rows.Scan(&table, &c.Name, &dataType, &c.Native, &length, &nullable, &def, &extra,
			&cm.charset, &cm.collation, &cm.generated); err != nil {
			return err
		}
		t := tables[table]
		if t == nil {
			return nil // a view, or the ledger
		}
		dataType = strings.ToLower(dataType)
		setType(c, dataType, length)
		c.NotNull = nullable == "NO"
		lextra := strings.ToLower(extra)
		c.Identity = strings.Contains(lextra, "auto_increment")
		if i := strings.Index(lextra, "on update "); i >= 0 {
			cm.onUpdate = strings.TrimSpace(extra[i+len("on update "):])
		}
		isGenerated := strings.Contains(lextra, "virtual generated") || strings.Contains(lextra, "stored generated") ||
			strings.Contains(lextra, "persistent generated")
		if !isGenerated {
			cm.generated = ""
		}
		cm.stored = isGenerated && !strings.Contains(lextra, "virtual")
		if cm.generated == "" {
			c.Default = d.defaultExpr(def, dataType, lextra)
		}
		t.Columns = append(t.Columns, c)
		meta[table].columns[c.Name] = cm
		return nil
	})
}

// setType maps information_schema's DATA_TYPE to the portable type.
func setType(c *database.Column, dataType string, length int64) {
	native := strings.ToLower(c.Native)
	switch dataType {
	case "char", "varchar":
		c.Type, c.Length = database.Text, int(length)
	case "tinytext", "text", "mediumtext", "longtext":
		c.Type = database.Text
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint":
		c.Type = database.Integer
		c.Bits = map[string]int{"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}[dataType]
		c.Unsigned = strings.Contains(native, "unsigned")
	case "float", "double", "real", "double precision":
		c.Type = database.Float
	case "decimal", "numeric":
		c.Type = database.Decimal
	case "date":
		c.Type = database.Date
	case "datetime", "timestamp":
		c.Type = database.Timestamp
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		c.Type = database.Bytes
	default: // enum, set, bit, json, time, year, geometry…
		c.Type = database.Other
	}
}

// defaultExpr is the DEFAULT clause's expression as DDL takes it, "" when there is none.
// MariaDB (since 10.2.7) quotes literals and prints NULL for "no default"; MySQL leaves
// literals bare and marks expressions DEFAULT_GENERATED.
func (d *DB) defaultExpr(def sql.NullString, dataType, lextra string) string {
	if !def.Valid {
		return ""
	}
	v := def.String
	if d.mariaDB {
		if v == "NULL" {
			return ""
		}
		return v
	}
	switch {
	case strings.Contains(lextra, "default_generated"):
		if isCurrentTimestamp(v) {
			return v
		}
		return "(" + v + ")"
	case dataType == "bit" && strings.HasPrefix(v, "b'"):
		return v
	case strings.HasPrefix(v, "0x") && strings.Contains(dataType, "binary"):
		return v
	}
	return quoteString(v)
}

func isCurrentTimestamp(v string) bool {
	l := strings.ToLower(v)
	for _, p := range []string{"current_timestamp", "now", "localtime", "localtimestamp"} {
		if rest, ok := strings.CutPrefix(l, p); ok {
			return rest == "" || rest[0] == '('
		}
	}
	return false
}

// readChecks reads CHECK constraints. On MariaDB a column's json_valid check is its JSON type.
func (d *DB) readChecks(ctx context.Context, tables map[string]*database.Table, meta map[string]*tableMeta) error {
	q := `SELECT tc.TABLE_NAME, cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, ''
		FROM information_schema.TABLE_CONSTRAINTS tc
		JOIN information_schema.CHECK_CONSTRAINTS cc
		  ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
		WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK'
		ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME`
	if d.mariaDB {
		q = `SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL FROM information_schema.CHECK_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME`
	}
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return nil // servers before CHECK constraints (MySQL < 8.0.16) have no such table
	}
	return each(rows, func() error {
		var table, name, clause, level string
		if err := rows.Scan(&table, &name, &clause, &level); err != nil {
			return err
		}
		t := tables[table]
		if t == nil {
			return nil
		}
		if level == "Column" && clause == "json_valid("+quoteIdent(name)+")" {
			if c := t.Column(name); c != nil && strings.EqualFold(c.Native, "longtext") {
				c.Type, c.Native, c.Length = database.Other, "json", 0
				return nil
			}
		}
		meta[table].checks = append(meta[table].checks, "CONSTRAINT "+quoteIdent(name)+" CHECK ("+clause+")")
		return nil
	})
}

func (d *DB) readIndexes(ctx context.Context, tables map[string]*database.Table) error {
	expr := "NULL"
	if !d.mariaDB {
		expr = "EXPRESSION" // functional key parts, MySQL 8.0.13+
	}
	rows, err := d.db.QueryContext(ctx, `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART,
		COALESCE(COLLATION, 'A'), INDEX_TYPE, `+expr+`
		FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
		ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil && !d.mariaDB {
		rows, err = d.db.QueryContext(ctx, `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART,
			COALESCE(COLLATION, 'A'), INDEX_TYPE, NULL
			FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
			ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	}
	if err != nil {
		return err
	}
	type part struct {
		table, index string
		unique       bool
		kind         string
		cols         []string
		exprs        []string
		hasExpr      bool
	}
	var parts []*part
	var cur *part
	err = each(rows, func() error {
		var table, index, collation, kind string
		var nonUnique int
		var column, expression sql.NullString
		var sub sql.NullInt64
		if err := rows.Scan(&table, &index, &nonUnique, &column, &sub, &collation, &kind, &expression); err != nil {
			return err
		}
		if tables[table] == nil {
			return nil
		}
		if cur == nil || cur.table != table || cur.index != index {
			cur = &part{table: table, index: index, unique: nonUnique == 0, kind: strings.ToUpper(kind)}
			parts = append(parts, cur)
		}
		var e string
		if column.Valid {
			cur.cols = append(cur.cols, column.String)
			e = quoteIdent(column.String)
			if sub.Valid {
				e += "(" + fmt.Sprint(sub.Int64) + ")"
			}
		} else {
			cur.hasExpr = true
			e = "(" + expression.String + ")"
		}
		if collation == "D" {
			e += " DESC"
		}
		cur.exprs = append(cur.exprs, e)
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range parts {
		t := tables[p.table]
		if p.index == "PRIMARY" {
			t.PrimaryKey = p.cols
			continue
		}
		ix := &database.Index{Name: p.index, Unique: p.unique}
		if !p.hasExpr {
			ix.Columns = p.cols
		}
		ix.Def = "CREATE " + indexKind(p.unique, p.kind) + "INDEX " + quoteIdent(p.index) + " ON " + quoteIdent(p.table) +
			" (" + strings.Join(p.exprs, ", ") + ")"
		t.Indexes = append(t.Indexes, ix)
	}
	for _, t := range tables {
		sort.Slice(t.Indexes, func(i, j int) bool { return t.Indexes[i].Name < t.Indexes[j].Name })
	}
	return nil
}

func indexKind(unique bool, kind string) string {
	switch {
	case kind == "FULLTEXT" || kind == "SPATIAL":
		return kind + " "
	case unique:
		return "UNIQUE "
	}
	return ""
}

func (d *DB) readForeignKeys(ctx context.Context, tables map[string]*database.Table) error {
	rows, err := d.db.QueryContext(ctx, `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME,
		k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
		r.DELETE_RULE, r.UPDATE_RULE
		FROM information_schema.KEY_COLUMN_USAGE k
		JOIN information_schema.REFERENTIAL_CONSTRAINTS r
		  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
		 AND r.TABLE_NAME = k.TABLE_NAME
		WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
		ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`)
	if err != nil {
		return err
	}
	type fkRules struct{ schema, onDelete, onUpdate string }
	var (
		fks   []*database.ForeignKey
		owner []string
		rules []fkRules
		cur   *database.ForeignKey
	)
	err = each(rows, func() error {
		var table, name, column, refSchema, refTable, refColumn, onDelete, onUpdate string
		if err := rows.Scan(&table, &name, &column, &refSchema, &refTable, &refColumn, &onDelete, &onUpdate); err != nil {
			return err
		}
		if tables[table] == nil {
			return nil
		}
		if cur == nil || owner[len(owner)-1] != table || cur.Name != name {
			cur = &database.ForeignKey{Name: name, RefTable: refTable}
			fks, owner = append(fks, cur), append(owner, table)
			rules = append(rules, fkRules{refSchema, onDelete, onUpdate})
		}
		cur.Columns = append(cur.Columns, column)
		cur.RefColumns = append(cur.RefColumns, refColumn)
		return nil
	})
	if err != nil {
		return err
	}
	for i, fk := range fks {
		// InnoDB treats NO ACTION as RESTRICT, and MariaDB records a RESTRICT added with
		// foreign_key_checks off as NO ACTION: print both the same way.
		for _, r := range []*string{&rules[i].onDelete, &rules[i].onUpdate} {
			if *r == "NO ACTION" {
				*r = "RESTRICT"
			}
		}
		ref := quoteIdent(fk.RefTable)
		if rules[i].schema != d.name {
			ref = quoteIdent(rules[i].schema) + "." + ref
		}
		fk.Def = "CONSTRAINT " + quoteIdent(fk.Name) + " FOREIGN KEY (" + quoteIdents(fk.Columns) + ") REFERENCES " +
			ref + " (" + quoteIdents(fk.RefColumns) + ") ON DELETE " + rules[i].onDelete + " ON UPDATE " + rules[i].onUpdate
		t := tables[owner[i]]
		t.ForeignKeys = append(t.ForeignKeys, fk)
	}
	return nil
}
