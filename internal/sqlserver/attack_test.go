package sqlserver

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// goldenScript is the script of testdata/policy.yaml, as TestDeidScriptGolden writes it.
func goldenScript(t *testing.T) string {
	src, _ := os.ReadFile("testdata/policy.yaml")
	var b bytes.Buffer
	if err := DeidScript(&b, DeidOptions{Policy: parse(t, "testdata/policy.yaml", string(src)), Key: testKey(t)}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// batches splits a script at its GO lines.
func batches(script string) []string { return strings.Split(script, "\nGO\n") }

// Attacks on the generated T-SQL, each read as a SQL Server DBA would read the script (no SQL
// Server is reachable here: these read the text, and the golden file testdata/deid.sql shows
// it whole). Before the fix every one of them held.
func TestAttackTSQL(t *testing.T) {
	script := goldenScript(t)
	all := batches(script)
	batch := func(i int) string { // "" when there is no such batch
		if i < 0 {
			i += len(all)
		}
		if i < 0 || i >= len(all) {
			return ""
		}
		return all[i]
	}
	for _, c := range []struct {
		attack string
		holds  func() bool
	}{
		// The HMAC pads were passed to sp_executesql as parameters: plans (and Query Store,
		// on by default from SQL Server 2022) keep compiled parameter values.
		{"the key's pads are parameters of a statement on the database's tables", func() bool {
			return regexp.MustCompile(`sp_executesql[^;]*@(i|o)pad`).MatchString(script)
		}},
		{"the key is in a batch other than the key batch, or no batch of its own", func() bool {
			n := 0
			for i, b := range all {
				if strings.Contains(b, "$(StewardKey)") {
					n++
					if !strings.Contains(b, "INSERT #steward_key") || i != 1 {
						return true
					}
				}
			}
			return n != 1
		}},
		{"Query Store is left on and uncleared before the key is read", func() bool {
			return !strings.Contains(batch(0), "SET QUERY_STORE CLEAR ALL") || !strings.Contains(batch(0), "SET QUERY_STORE = OFF")
		}},
		{"the database's plan cache and the key's temp table outlive the run", func() bool {
			last := batch(-2)
			return !strings.Contains(last, "CLEAR PROCEDURE_CACHE") || !strings.Contains(last, "DROP TABLE #steward_key")
		}},
		// An UPDATE of a key a foreign key references fails with error 547 and rolls back.
		{"foreign keys on rewritten columns are not dropped and re-created WITH CHECK", func() bool {
			return !strings.Contains(script, "DROP CONSTRAINT") || !strings.Contains(script, "WITH CHECK") || !strings.Contains(script, "ADD CONSTRAINT")
		}},
		{"the two ends of a foreign key are not checked to get one rule", func() bool {
			return !strings.Contains(script, "foreign keys whose two ends get different rules")
		}},
		// An audit trigger copies the originals into its own table.
		{"triggers are not disabled and re-enabled", func() bool {
			return !strings.Contains(script, "DISABLE TRIGGER ") || !strings.Contains(script, "ENABLE TRIGGER ")
		}},
		// One transaction over every table: the log grows with the whole database, and an
		// interruption loses it all.
		{"one transaction spans several tables, with no progress recorded", func() bool {
			for _, table := range []string{"[dbo].[patient]", "[dbo].[server]"} {
				i := strings.Index(script, "-- "+table+"\nIF EXISTS (SELECT 1 FROM dbo.steward_progress WHERE step = N'table "+table+"')")
				if i < 0 {
					return true
				}
				part := script[i:]
				part = part[:strings.Index(part, "\nEND;\n")]
				if strings.Count(part, "BEGIN TRANSACTION") != 1 || strings.Count(part, "COMMIT TRANSACTION") != 1 || !strings.Contains(part, "INSERT dbo.steward_progress") {
					return true
				}
			}
			return false
		}},
		{"a re-run with another key or policy is not refused", func() bool {
			return !strings.Contains(script, "de-identified, in part or whole, with another key or policy")
		}},
		// CONVERT(nvarchar(max), charcol) keeps the padding: a char(12) MRN hashed unlike the
		// same MRN in a varchar(12).
		{"char(n) values are hashed with their padding", func() bool {
			return !strings.Contains(script, "CASE WHEN @type IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(N'mrn') + N')'")
		}},
		// BACKUP copies allocated pages: old row bytes in free space, ghost records, the log.
		{"the rewritten tables are not rebuilt, nor free space cleaned, nor the log emptied", func() bool {
			for _, want := range []string{"REBUILD", "sp_clean_db_free_space", "SET RECOVERY SIMPLE", "CHECKPOINT", "DBCC SHRINKFILE"} {
				if !strings.Contains(script, want) {
					return true
				}
			}
			return false
		}},
		{"change data capture or a system-versioned table would keep the originals", func() bool {
			return !strings.Contains(batch(0), "is_cdc_enabled") || !strings.Contains(batch(0), "temporal_type = 2")
		}},
	} {
		if c.holds() {
			t.Errorf("attack holds: %s", c.attack)
		}
	}
}
