package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/verify"
)

// The attack fixture: an organisation, a server and patients whose identifiers a careless
// fix-up script, or a scrub that misses a spelling, could leave in the copy. Row 1 holds the
// values the spellings below are spelt from.
const attackPolicy = `version: 1
default: error
tables:
  enterprise:
    columns:
      id: keep
      name: {pseudonym: Enterprise}
  server:
    columns:
      id: keep
      fqdn: {placeholder: hostname}
  patient:
    columns:
      id: keep
      mrn: hash
      first_name: hash
      last_name: hash
      ssn: hash
      phone: hash
      email: {placeholder: email}
      label: keep
      comment: keep
      note: scrub
`

const attackRows = 30

var (
	attackFirst = []string{"Zoë", "Okonkwo", "Thandiwe", "Ruairí", "Bartholomew", "Siobhán"}
	attackLast  = []string{"Vasquez-Ortiz", "Lindqvist", "Abernathy", "Nakashima", "Przybylski", "Featherstone"}
)

func attackSQL(kind database.Kind) []string {
	stmts := []string{
		`CREATE TABLE enterprise (id INTEGER PRIMARY KEY, name VARCHAR(80))`,
		`CREATE TABLE server (id INTEGER PRIMARY KEY, fqdn VARCHAR(120))`,
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, mrn VARCHAR(12), first_name VARCHAR(40), last_name VARCHAR(60),
			ssn CHAR(11), phone VARCHAR(20), email VARCHAR(120), label VARCHAR(40), comment TEXT, note TEXT)`,
		`INSERT INTO enterprise VALUES (1, 'Allegheny Riverside Health System'), (2, 'Monongahela Valley Medical Group')`,
		`INSERT INTO server VALUES (1, 'trcn-xt-app01.trcn.local'), (2, 'mvmg-db-07.mvmg.local')`,
	}
	for i := 1; i <= attackRows; i++ {
		mrn := fmt.Sprintf("MRN%09d", 518998294+(i-1)*7919)
		first, last := attackFirst[(i-1)%len(attackFirst)], attackLast[(i-1)%len(attackLast)]
		ssn := fmt.Sprintf("%03d-%02d-%04d", 835+i-1, 12+i-1, 6709+i-1)
		phone := fmt.Sprintf("412-867-%04d", 5309+i-1)
		email := fmt.Sprintf("patient%d@example.org", i)
		if i == 1 {
			email = "z.vasquez@example.org"
		}
		note := fmt.Sprintf("Pt %s %s seen on the ward, stable, plan reviewed.", first, last)
		stmts = append(stmts, fmt.Sprintf("INSERT INTO patient VALUES (%d, '%s', '%s', '%s', '%s', '%s', '%s', 'Bed %d', 'stable overnight', '%s')",
			i, mrn, first, last, ssn, phone, email, i, note))
	}
	return stmts
}

// spellings are the ways row 1's identifiers were found to survive (issue 15), and the other
// spellings a note writes them in. Each, planted alone in one cell of the copy, must make
// verify fail its survivors check naming that cell's table, column and key.
var spellings = []struct{ name, text string }{
	{"MRN before a slash", "see MRN518998294/att for the scan"},
	{"MRN after a colon", "key:MRN518998294"},
	{"MRN possessive", "MRN518998294's chart"},
	{"MRN after a hyphen", "ref x-MRN518998294"},
	{"MRN with spaces", "MRN 518 998 294"},
	{"MRN lower case", "mrn518998294"},
	{"surname with digit and possessive", "Vasquez-Ortiz1's room"},
	{"surname lower case", "asked for vasquez-ortiz"},
	{"surname upper case", "VASQUEZ ORTIZ"},
	{"name without diacritics", "Zoe Vasquez-Ortiz"},
	{"given name without diacritics", "zoe"},
	{"bare short host name", "rebooted trcn-xt-app01 twice"},
	{"host name upper case", "TRCN-XT-APP01.TRCN.LOCAL"},
	{"organisation lower case", "allegheny riverside health system"},
	{"organisation over a line break", "Allegheny Riverside\nHealth  System"},
	{"SSN with spaces", "SSN 835 12 6709"},
	{"SSN without separators", "ssn835126709"},
	{"phone with dots", "call 412.867.5309"},
	{"phone with parentheses", "call (412) 867 5309"},
	{"phone without separators", "tel 4128675309"},
	{"e-mail upper case", "Z.VASQUEZ@EXAMPLE.ORG"},
}

// TestVerifyFindsEverySpelling is the attack on verify: the copy is made correctly, then the
// spellings are written into cells of one column (a kept label, a kept text column, a
// scrubbed note) with an UPDATE, as a fix-up script would, and verify must fail, naming the
// column and the rows. By default each column gets every spelling at once, one to a row
// (rows 2–22), and the finding must count each of them; with STEWARD_TEST_LARGE=1 each
// spelling is also planted alone (row 7), one verify a spelling.
func TestVerifyFindsEverySpelling(t *testing.T) {
	pol, err := policy.Parse("attack.yaml", []byte(attackPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			src := s.Source(t)
			db := dbtest.SQL(t, src)
			for _, q := range attackSQL(s.Kind) {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("fixture: %v\n%.200s", err, q)
				}
			}
			dst := s.Target(t)
			if _, err := deid.Run(context.Background(), deid.Options{Policy: pol, Key: deidtest.Key, Source: src, Target: dst}); err != nil {
				t.Fatalf("deid run: %v", err)
			}
			rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failed()) > 0 { // check 6 is "not measured": this policy marks no quasi-identifiers
				t.Fatalf("the copy before any plant failed %v: %+v", failedChecks(rep), rep.Findings)
			}
			copyDB := dbtest.SQL(t, dst)
			param := "?"
			if s.Kind == database.Postgres {
				param = "$1"
			}
			// plant writes texts into column col of the rows given, runs verify, puts the
			// cells back and returns the survivors findings of the column: their count and rows.
			plant := func(t *testing.T, col string, texts map[int]string) (int64, []string) {
				t.Helper()
				for id, text := range texts {
					var was string
					if err := copyDB.QueryRow("SELECT "+col+" FROM patient WHERE id = "+param, id).Scan(&was); err != nil {
						t.Fatal(err)
					}
					if _, err := copyDB.Exec("UPDATE patient SET "+col+" = "+param+" WHERE id = "+fmt.Sprint(id), text); err != nil {
						t.Fatal(err)
					}
					defer func() {
						if _, err := copyDB.Exec("UPDATE patient SET "+col+" = "+param+" WHERE id = "+fmt.Sprint(id), was); err != nil {
							t.Fatal(err)
						}
					}()
				}
				rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(rep.Failed(), verify.Survivors) {
					t.Fatalf("verify passed the survivors check with %d spelling(s) planted in patient.%s (failed: %v)", len(texts), col, failedChecks(rep))
				}
				var n int64
				var keys []string
				for _, f := range rep.Findings {
					if f.Check == verify.Survivors && f.Table == "patient" && f.Column == col {
						n += f.Count
						keys = append(keys, f.Keys...)
					}
				}
				for _, format := range []string{"html", "json", "md"} {
					var b bytes.Buffer
					if err := verify.Render(&b, format, rep); err != nil {
						t.Fatal(err)
					}
					for _, text := range texts {
						if strings.Contains(b.String(), text) || strings.Contains(b.String(), "518998294") {
							t.Fatalf("the %s report shows a planted value", format)
						}
					}
				}
				return n, keys
			}
			for _, col := range []string{"label", "comment", "note"} {
				t.Run(col, func(t *testing.T) {
					texts := map[int]string{}
					var want []string
					for i, sp := range spellings {
						texts[i+2] = sp.text
						want = append(want, fmt.Sprintf("id=%d", i+2))
					}
					n, keys := plant(t, col, texts)
					slices.Sort(keys)
					slices.Sort(want)
					if n != int64(len(spellings)) || len(keys) != len(spellings) || !slices.Equal(keys, want) {
						t.Errorf("got %d survivors naming %v, want %d naming %v", n, keys, len(spellings), want)
					}
					if os.Getenv("STEWARD_TEST_LARGE") == "" {
						return
					}
					for _, sp := range spellings {
						if n, keys := plant(t, col, map[int]string{7: sp.text}); n != 1 || !slices.Equal(keys, []string{"id=7"}) {
							t.Errorf("%s alone: got %d survivors naming %v, want 1 naming [id=7]", sp.name, n, keys)
						}
					}
				})
			}
		})
	}
}

// TestScrubFindsEverySpelling plants each spelling in the original's scrubbed note, runs the
// engine, and requires the copy's note to hold none of it (its letters and digits, in any
// case, compared without separators) and verify to pass.
func TestScrubFindsEverySpelling(t *testing.T) {
	pol, err := policy.Parse("attack.yaml", []byte(attackPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			src := s.Source(t)
			db := dbtest.SQL(t, src)
			for _, q := range attackSQL(s.Kind) {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("fixture: %v\n%.200s", err, q)
				}
			}
			param := "?"
			if s.Kind == database.Postgres {
				param = "$1"
			}
			for i, sp := range spellings {
				if _, err := db.Exec("UPDATE patient SET note = "+param+" WHERE id = "+fmt.Sprint(i+2), "Note: "+sp.text+" (seen)."); err != nil {
					t.Fatal(err)
				}
			}
			dst := s.Target(t)
			if _, err := deid.Run(context.Background(), deid.Options{Policy: pol, Key: deidtest.Key, Source: src, Target: dst}); err != nil {
				t.Fatalf("deid run: %v", err)
			}
			copyDB := dbtest.SQL(t, dst)
			for i, sp := range spellings {
				var note string
				if err := copyDB.QueryRow("SELECT note FROM patient WHERE id = " + fmt.Sprint(i+2)).Scan(&note); err != nil {
					t.Fatal(err)
				}
				for _, left := range []string{"518998294", "vasquez", "ortiz", "zoe", "trcnxt", "allegheny", "835126709", "4128675309"} {
					if strings.Contains(alnum(note), left) && strings.Contains(alnum(sp.text), left) {
						t.Errorf("%s: %q became %q, which still holds %q", sp.name, sp.text, note, left)
					}
				}
			}
			rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failed()) > 0 {
				t.Errorf("verify failed %v: %+v", failedChecks(rep), rep.Findings)
			}
		})
	}
}

// alnum is s's letters and digits, lower case, with the diacritics of ë dropped.
func alnum(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.ReplaceAll(s, "ë", "e")) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A row is named by its key in the copy, unless that key is itself one of the original's
// identifiers (a kept key column holding MRNs): then the finding says so and shows no key.
func TestFindingNeverShowsAKeyThatIsAnIdentifier(t *testing.T) {
	const pol = `version: 1
default: error
tables:
  patient:
    columns:
      id: keep
      mrn: hash
      last_name: hash
  visit:
    columns:
      mrn: keep
      note: keep
`
	p, err := policy.Parse("keys.yaml", []byte(pol))
	if err != nil {
		t.Fatal(err)
	}
	s := deidtest.Servers[0]
	src := s.Source(t)
	db := dbtest.SQL(t, src)
	for _, q := range []string{
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, mrn VARCHAR(12), last_name VARCHAR(40))`,
		`CREATE TABLE visit (mrn VARCHAR(12) PRIMARY KEY, note TEXT)`,
		`INSERT INTO patient VALUES (1, 'MRN518998294', 'Featherstone'), (2, 'MRN518006213', 'Abernathy')`,
		`INSERT INTO visit VALUES ('MRN518998294', 'seen'), ('X-0002', 'seen')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dst := s.Target(t)
	if _, err := deid.Run(context.Background(), deid.Options{Policy: p, Key: deidtest.Key, Source: src, Target: dst}); err != nil {
		t.Fatal(err)
	}
	if _, err := dbtest.SQL(t, dst).Exec(`UPDATE visit SET note = 'asked for featherstone; abernathy too'`); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Run(context.Background(), verify.Options{Policy: p, Source: src, Target: dst})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range rep.Findings {
		if f.Table == "visit" && f.Column == "note" {
			keys = f.Keys
		}
	}
	if want := []string{"mrn=X-0002", "(a row whose key is itself an original identifier)"}; !slices.Equal(keys, want) {
		t.Errorf("visit.note finding names %v, want %v", keys, want)
	}
	for _, format := range []string{"html", "json", "md"} {
		var b bytes.Buffer
		if err := verify.Render(&b, format, rep); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "518998294") {
			t.Errorf("the %s report shows the MRN", format)
		}
	}
}
