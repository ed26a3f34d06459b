package deid_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
)

// tablesOf lists a database's base tables.
func tablesOf(t *testing.T, kind database.Kind, db *sql.DB) []string {
	t.Helper()
	q := map[database.Kind]string{
		database.SQLite:   "SELECT name FROM sqlite_master WHERE type = 'table'",
		database.Postgres: "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
		database.MySQL:    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
	}[kind]
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Copy mode refuses a target that holds anything the copy would create — a table, or a
// name the copy's indexes or constraints would take — before it creates anything, and
// leaves the target exactly as it was.
func TestCopyRefusesATargetThatHoldsItsTables(t *testing.T) {
	cases := []struct {
		name  string
		kinds []database.Kind
		setup []string
		want  string
	}{
		{"a table of the copy", nil, []string{"CREATE TABLE patient (id INTEGER PRIMARY KEY, note TEXT)", "INSERT INTO patient VALUES (1, 'kept')"}, "patient"},
		{"an index name of the copy", []database.Kind{database.Postgres}, []string{"CREATE TABLE other (id INTEGER PRIMARY KEY, at TIMESTAMP)", "CREATE INDEX encounter_admit ON other (at)"}, "encounter_admit"},
		{"a foreign key name of the copy", []database.Kind{database.MySQL}, []string{"CREATE TABLE other (id INTEGER PRIMARY KEY)", "CREATE TABLE other2 (id INTEGER PRIMARY KEY, o INTEGER, CONSTRAINT encounter_mrn FOREIGN KEY (o) REFERENCES other (id))"}, "encounter_mrn"},
	}
	for _, s := range deidtest.Servers {
		for _, c := range cases {
			if c.kinds != nil && !contains(c.kinds, s.Kind) {
				continue
			}
			t.Run(string(s.Kind)+"/"+c.name, func(t *testing.T) {
				src := deidtest.Fill(t, s, 20)
				dst := s.Source(t) // exists, and holds what the case puts there
				db := dbtest.SQL(t, dst)
				for _, q := range c.setup {
					if _, err := db.Exec(q); err != nil {
						t.Fatal(err)
					}
				}
				before := tablesOf(t, s.Kind, db)
				var beforeFile []byte
				if s.Kind == database.SQLite {
					beforeFile, _ = os.ReadFile(strings.TrimPrefix(dst, "sqlite:"))
				}
				_, err := deid.Run(context.Background(), deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, Target: dst})
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, want a refusal naming %s", err, c.want)
				}
				if got := tablesOf(t, s.Kind, db); !reflect.DeepEqual(got, before) {
					t.Errorf("the refused copy left tables behind: got %v, want %v", got, before)
				}
				if s.Kind == database.SQLite {
					if after, _ := os.ReadFile(strings.TrimPrefix(dst, "sqlite:")); !reflect.DeepEqual(after, beforeFile) {
						t.Error("the refused copy changed the target file")
					}
					if left, _ := filepath.Glob(filepath.Join(filepath.Dir(strings.TrimPrefix(dst, "sqlite:")), ".*steward-tmp")); len(left) > 0 {
						t.Errorf("the refused copy left %v", left)
					}
				}
			})
		}
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
