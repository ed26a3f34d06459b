package demo

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Sample is a few rows of one part of the demo database, as they read in the original and
// in its de-identified copy (each row its columns joined by " | ", NULL for a null).
type Sample struct {
	Title         string
	Before, After []string
}

var samples = []struct{ title, query string }{
	{"patient", "SELECT mrn, first_name, last_name, birth_date || '', zip, phone FROM patient ORDER BY id LIMIT 3"},
	{"enterprise and campus", "SELECT e.name, c.name, c.city FROM campus c JOIN enterprise e ON e.id = c.enterprise_id ORDER BY c.id LIMIT 2"},
	{"server", "SELECT hostname, fqdn, ip_address FROM server ORDER BY id LIMIT 2"},
	{"integration endpoint", "SELECT url FROM integration_endpoint ORDER BY id LIMIT 2"},
	{"transport note", "SELECT note FROM transport_request WHERE note IS NOT NULL ORDER BY id LIMIT 2"},
}

// Samples reads the same rows of the demo database at src and of its copy at dst (SQLite
// files, opened read-only), to show what de-identification changed.
func Samples(ctx context.Context, src, dst string) ([]Sample, error) {
	a, err := sql.Open("sqlite", "file:"+src+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer a.Close()
	b, err := sql.Open("sqlite", "file:"+dst+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var out []Sample
	for _, s := range samples {
		before, err := queryRows(ctx, a, s.query)
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", s.title, err)
		}
		after, err := queryRows(ctx, b, s.query)
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", s.title, err)
		}
		out = append(out, Sample{Title: s.title, Before: before, After: after})
	}
	return out, nil
}

func queryRows(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				parts[i] = v.String
			} else {
				parts[i] = "NULL"
			}
		}
		out = append(out, strings.Join(parts, " | "))
	}
	return out, rows.Err()
}
