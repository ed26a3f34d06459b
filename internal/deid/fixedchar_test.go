package deid_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
)

// Attack: the same MRN kept in a char(12) column (padded with blanks to 12) and in a
// varchar(12) column hashed differently on PostgreSQL (which hands the padding over) and on
// SQLite (which stores what was written), so the two columns no longer joined, and a note
// naming the MRN was not scrubbed. SQL compares fixed-width values without their trailing
// blanks, and so must the hash: on every database the char(12) value hashes as the varchar's.
func TestFixedWidthCharHashesWithoutPadding(t *testing.T) {
	const pol = `version: 1
default: error
tables:
  chart:
    columns:
      id: keep
      mrn: hash
      site: {pseudonym: Site}
      note: scrub
  visit:
    columns:
      id: keep
      mrn: hash
      site: {pseudonym: Site}
`
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			src := s.Source(t)
			db := dbtest.SQL(t, src)
			char := "char(12)"
			pad := func(v string) string { return v } // the database pads char(n) itself
			if s.Kind == database.SQLite {
				pad = func(v string) string { return v + strings.Repeat(" ", 12-len(v)) } // as a loader writing char(12) would
			}
			for _, q := range []string{
				"CREATE TABLE chart (id integer PRIMARY KEY, mrn " + char + " NOT NULL, site " + char + ", note varchar(200))",
				"CREATE TABLE visit (id integer PRIMARY KEY, mrn varchar(12) NOT NULL, site varchar(12))",
				"INSERT INTO chart VALUES (1, '" + pad("MRN0042") + "', '" + pad("North") + "', 'seen, MRN0042 stable'), (2, '" + pad("MRN0043") + "', '" + pad("South") + "', 'n/a')",
				"INSERT INTO visit VALUES (1, 'MRN0042', 'North'), (2, 'MRN0043', 'South')",
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			p, err := policy.Parse("p.yaml", []byte(pol))
			if err != nil {
				t.Fatal(err)
			}
			dst := s.Target(t)
			if _, err := deid.Run(context.Background(), deid.Options{Policy: p, Key: deidtest.Key, Source: src, Target: dst}); err != nil {
				t.Fatal(err)
			}
			out := dbtest.SQL(t, dst)
			h := deidtest.Key.NewHasher()
			for id, mrn := range map[int]string{1: "MRN0042", 2: "MRN0043"} {
				var chart, visit, cs, vs string
				if err := out.QueryRow(q(s.Kind, "SELECT c.mrn, v.mrn, c.site, v.site FROM chart c JOIN visit v ON v.id = c.id WHERE c.id = $1"), id).Scan(&chart, &visit, &cs, &vs); err != nil {
					t.Fatal(err)
				}
				want := hex.EncodeToString(h.Sum(mrn))[:12]
				if strings.TrimRight(chart, " ") != want || visit != want {
					t.Errorf("row %d: char(12) mrn hashed to %q, varchar(12) to %q; want both %q (the value without its padding)", id, chart, visit, want)
				}
				if strings.TrimRight(cs, " ") != vs {
					t.Errorf("row %d: char(12) site %q, varchar(12) site %q: want one pseudonym", id, cs, vs)
				}
			}
			var note string
			out.QueryRow("SELECT note FROM chart WHERE id = 1").Scan(&note)
			if strings.Contains(note, "MRN0042") {
				t.Errorf("the note still names the MRN kept in a char(12) column: %q", note)
			}
		})
	}
}

// q rewrites ? placeholders for PostgreSQL.
func q(kind database.Kind, pg string) string {
	if kind == database.Postgres {
		return pg
	}
	return strings.ReplaceAll(pg, "$1", "?")
}
