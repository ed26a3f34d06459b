package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/store"
)

// Table is one table's row count and checksum.
type Table struct {
	Name     string `json:"name"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"` // hex; the same rows in any order give the same checksum
}

// querier is a connection or a transaction.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Checksums counts and checksums every table of the database q reads. A row's digest is the
// SHA-256 of its values, each written with its type and length; a table's checksum adds its
// rows' digests in four 64-bit lanes, so it does not depend on the order rows come back in
// and counts a repeated row twice. Values are compared as the driver returns them, so two
// databases of the same dialect compare.
func Checksums(ctx context.Context, q querier, d store.Dialect) ([]Table, error) {
	list := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if d == store.Postgres {
		list = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`
	}
	var names []string
	if err := scanAll(ctx, q, list, func(r *sql.Rows) error {
		var n string
		names = append(names, n)
		return r.Scan(&names[len(names)-1])
	}); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := make([]Table, 0, len(names))
	for _, n := range names {
		t, err := checksum(ctx, q, n)
		if err != nil {
			return nil, fmt.Errorf("checksum table %s: %w", n, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func checksum(ctx context.Context, q querier, table string) (Table, error) {
	t := Table{Name: table}
	var sum [4]uint64
	var vals []any
	err := scanAll(ctx, q, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`, func(r *sql.Rows) error {
		if vals == nil {
			cols, err := r.Columns()
			if err != nil {
				return err
			}
			vals = make([]any, len(cols))
		}
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			return err
		}
		h := sha256.New()
		for _, v := range vals {
			tag, b := canonical(v)
			var n [9]byte
			n[0] = tag
			binary.BigEndian.PutUint64(n[1:], uint64(len(b)))
			h.Write(n[:])
			h.Write(b)
		}
		d := h.Sum(nil)
		for i := range sum {
			sum[i] += binary.BigEndian.Uint64(d[8*i:])
		}
		t.Rows++
		return nil
	})
	var b [32]byte
	for i, v := range sum {
		binary.BigEndian.PutUint64(b[8*i:], v)
	}
	t.Checksum = hex.EncodeToString(b[:])
	return t, err
}

// canonical writes a value as a type tag and bytes.
func canonical(v any) (byte, []byte) {
	switch v := v.(type) {
	case nil:
		return 'n', nil
	case int64:
		return 'i', strconv.AppendInt(nil, v, 10)
	case float64:
		return 'f', strconv.AppendFloat(nil, v, 'g', -1, 64)
	case bool:
		return 'b', strconv.AppendBool(nil, v)
	case string:
		return 's', []byte(v)
	case []byte:
		return 'x', v
	case time.Time:
		return 't', []byte(v.UTC().Format(time.RFC3339Nano))
	}
	return 'o', fmt.Appendf(nil, "%T:%v", v, v)
}

func scanAll(ctx context.Context, q querier, query string, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Diff names the first difference between two sets of tables, or returns "" when they are
// equal: the same tables with the same row counts and checksums.
func Diff(want, got []Table) string {
	idx := map[string]Table{}
	for _, t := range got {
		idx[t.Name] = t
	}
	for _, w := range want {
		g, ok := idx[w.Name]
		switch {
		case !ok:
			return fmt.Sprintf("table %s is missing", w.Name)
		case g.Rows != w.Rows:
			return fmt.Sprintf("table %s: %d rows, want %d", w.Name, g.Rows, w.Rows)
		case g.Checksum != w.Checksum:
			return fmt.Sprintf("table %s: %d rows as expected but their checksum differs", w.Name, g.Rows)
		}
		delete(idx, w.Name)
	}
	for n := range idx {
		return fmt.Sprintf("table %s was not in the original", n)
	}
	return ""
}
