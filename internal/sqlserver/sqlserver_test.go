package sqlserver

import (
	"bytes"
	stdhmac "crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/golden"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

var testSecret = []byte("0123456789abcdef-test-key")

func testKey(t *testing.T) transform.Key {
	k, err := transform.NewKey(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func parse(t *testing.T, name, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lexCheck walks T-SQL as SQL Server's lexer would — strings, bracketed identifiers, comments —
// and fails if a literal or identifier is left open, or if forbidden appears outside them.
// Literals that hold SQL run later (sp_executesql, job steps) are checked the same way.
func lexCheck(t *testing.T, where, sql, forbidden string, depth int) {
	t.Helper()
	var code strings.Builder
	for i := 0; i < len(sql); {
		switch {
		case strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			i += j
		case sql[i] == '\'' || (sql[i] == 'N' && i+1 < len(sql) && sql[i+1] == '\''):
			if sql[i] == 'N' {
				i++
			}
			var val strings.Builder
			i++
			for {
				if i >= len(sql) {
					t.Fatalf("%s: string literal left open", where)
				}
				if sql[i] == '\'' {
					if i+1 < len(sql) && sql[i+1] == '\'' {
						val.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				val.WriteByte(sql[i])
				i++
			}
			v := val.String()
			if depth < 3 && (strings.Contains(v, "UPDATE ") || strings.Contains(v, "BACKUP ") || strings.Contains(v, "SELECT ") || strings.Contains(v, "CONVERT(")) {
				lexCheck(t, where+" (nested)", v, forbidden, depth+1)
			}
			code.WriteString(" 'lit' ")
		case sql[i] == '[':
			i++
			for {
				if i >= len(sql) {
					t.Fatalf("%s: bracketed identifier left open", where)
				}
				if sql[i] == ']' {
					if i+1 < len(sql) && sql[i+1] == ']' {
						i += 2
						continue
					}
					i++
					break
				}
				i++
			}
			code.WriteString(" [id] ")
		default:
			code.WriteByte(sql[i])
			i++
		}
	}
	if strings.Contains(code.String(), forbidden) {
		t.Errorf("%s: %q appears as code, outside any literal or identifier", where, forbidden)
	}
}

func TestDeidScriptGolden(t *testing.T) {
	src, _ := os.ReadFile("testdata/policy.yaml")
	var b bytes.Buffer
	if err := DeidScript(&b, DeidOptions{Policy: parse(t, "testdata/policy.yaml", string(src)), Key: testKey(t)}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "deid.sql", b.Bytes())
	script := b.String()
	lexCheck(t, "deid.sql", script, "\x00", 0)
	if strings.Contains(script, hex.EncodeToString(testSecret)) || strings.Contains(script, string(testSecret)) {
		t.Error("the script holds the key, which was not asked for")
	}
	// sqlcmd reads $(name) as a variable anywhere, and lines starting with : or !! or only GO
	// as its own commands: only the key file's and the key's variables, :on error exit, the
	// key file's :r and the batch separators may appear.
	if n := strings.Count(script, "$("); n != 2 {
		t.Errorf("script has %d $( sequences, want 2 (the key file's and the key's sqlcmd variables)", n)
	}
	gos := 0
	for i, line := range strings.Split(script, "\n") {
		switch {
		case line == "GO":
			gos++
		case line == ":on error exit" || line == ":r $(StewardKeyFile)":
		case strings.HasPrefix(line, ":") || strings.HasPrefix(line, "!!") || strings.EqualFold(strings.TrimSpace(line), "GO"):
			t.Errorf("line %d would be read as a sqlcmd command: %.40s", i+1, line)
		}
	}
	if gos != 4 {
		t.Errorf("script has %d batches, want 4 (prepare, key, work, finish)", gos)
	}
	if !strings.Contains(script, "'$(StewardKey)'") || !strings.Contains(script, "\n:on error exit\n:r $(StewardKeyFile)\n") {
		t.Error("the script does not stop on the first error and read the key from the sqlcmd file StewardKeyFile names")
	}
	// The self-test's expected hash is HMAC-SHA256, computed here without Steward's code.
	m := stdhmac.New(sha256.New, testSecret)
	m.Write([]byte("MRN0012345"))
	if want := "N'" + hex.EncodeToString(m.Sum(nil)) + "'"; !strings.Contains(script, want) {
		t.Errorf("the self-test does not expect HMAC-SHA256 of a vector (%s)", want)
	}
	for _, want := range []string{"^ 54", "^ 92", "HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + ", "BEGIN TRANSACTION", "UPDATE ' + N'[dbo].[patient]'"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q", want)
		}
	}

	b.Reset()
	if err := DeidScript(&b, DeidOptions{Policy: parse(t, "p.yaml", string(src)), Key: testKey(t), EmbedKey: testSecret}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "DECLARE @key varbinary(max) = 0x"+hex.EncodeToString(testSecret)+";") || strings.Contains(b.String(), "$(StewardKey)") {
		t.Error("--embed-key did not put the key into the script")
	}
}

func TestDeidScriptRefusesWhatTSQLCannotDo(t *testing.T) {
	src := `version: 1
default: keep
tables:
  patient:
    columns:
      note: scrub
      homepage: {placeholder: url}
      ssn: {hash: {alphabet: digits}}
      age: {generalize: age_band}
      mrn: hash
`
	err := DeidScript(&bytes.Buffer{}, DeidOptions{Policy: parse(t, "p.yaml", src), Key: testKey(t)})
	if err == nil {
		t.Fatal("a policy with scrub was accepted")
	}
	for _, want := range []string{"p.yaml:6:7: table patient, column note: scrub", "p.yaml:7:7: table patient, column homepage: placeholder url", "column ssn: hash alphabet digits", "column age: generalize age_band"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "column mrn") {
		t.Errorf("error names a column whose rule is covered:\n%v", err)
	}
}

const hostile = "x]'; DROP TABLE t; --"

func TestHostileNamesAreEscaped(t *testing.T) {
	src := "version: 1\ndefault: error\ntables:\n  \"o'k].we[ird\":\n    columns:\n      \"" + hostile + "\": hash\n      \"a'b\": {shift_date: {by: \"" + hostile + "\", days: 30}}\n      \"n]\": {pseudonym: \"P'fx\"}\n"
	var b bytes.Buffer
	if err := DeidScript(&b, DeidOptions{Policy: parse(t, "h.yaml", src), Key: testKey(t)}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "hostile-deid.sql", b.Bytes())
	lexCheck(t, "deid script", b.String(), "DROP TABLE t", 0)

	o := BackupOptions{Database: hostile, ContainerURL: "https://acct.blob.core.windows.net/hand-over", Stripes: 2, SAS: "https://acct.blob.core.windows.net/hand-over?sv=2022-11-02&sr=c&si=steward-x&sig=a'b"}
	for name, f := range map[string]func(*bytes.Buffer, BackupOptions) error{
		"backup":  func(b *bytes.Buffer, o BackupOptions) error { return BackupScript(b, o) },
		"cleanup": func(b *bytes.Buffer, o BackupOptions) error { return CleanupScript(b, o) },
	} {
		b.Reset()
		if err := f(&b, o); err != nil {
			t.Fatal(err)
		}
		lexCheck(t, name, b.String(), "DROP TABLE t", 0)
		if !strings.Contains(b.String(), "[x]]'; DROP TABLE t; --]") {
			t.Errorf("%s: the database name is not bracket-quoted with ] doubled", name)
		}
	}
}

func TestBackupScriptsGolden(t *testing.T) {
	o := BackupOptions{Database: "XT_deid", ContainerURL: "https://vendoracct.blob.core.windows.net/hospital-xt/", Stripes: 3}
	var b bytes.Buffer
	if err := BackupScript(&b, o); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "backup.sql", b.Bytes())
	for _, want := range []string{
		"CREATE CREDENTIAL [https://vendoracct.blob.core.windows.net/hospital-xt] WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = '" + SASPlaceholder + "'",
		"BACKUP DATABASE [XT_deid] TO URL = N''https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_1.bak'', URL = N''https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_2.bak'', URL = N''https://vendoracct.blob.core.windows.net/hospital-xt/XT_deid_3.bak'' WITH COMPRESSION, CHECKSUM, FORMAT, STATS = 5",
		"sp_add_job @job_name = N'Steward backup of XT_deid'", "sp_add_jobstep", "sp_add_jobserver", "sp_start_job",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("backup script lacks %q", want)
		}
	}
	b.Reset()
	if err := CleanupScript(&b, o); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "cleanup.sql", b.Bytes())
	for _, want := range []string{"DROP CREDENTIAL [https://vendoracct.blob.core.windows.net/hospital-xt]", "sp_delete_job @job_name = N'Steward backup of XT_deid'", "DROP DATABASE [XT_deid]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("clean-up script lacks %q", want)
		}
	}

	b.Reset()
	o.SAS = "https://vendoracct.blob.core.windows.net/hospital-xt?sv=2022-11-02&si=steward-20261123-ab12&sr=c&sig=abc%2Bdef"
	if err := BackupScript(&b, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "SECRET = 'sv=2022-11-02&si=steward-20261123-ab12&sr=c&sig=abc%2Bdef'") {
		t.Error("the credential's secret is not the token's bare query string")
	}
	for _, bad := range []struct{ token, want string }{
		{"?sv=2022-11-02&sr=c&sig=abc", "not a container address"},
		{"https://vendoracct.blob.core.windows.net/other?sv=2022-11-02&sr=c&sig=abc", "container other"},
		{"https://evil.blob.core.windows.net/hospital-xt?sv=2022-11-02&sr=c&sig=abc", "account host evil"},
		{"https://vendoracct.blob.core.windows.net/hospital-xt/x.bak?sv=2022-11-02&sr=b&sig=abc", "not a container"},
		{"http://vendoracct.blob.core.windows.net/hospital-xt?sv=2022-11-02&sr=c&sig=abc", "HTTPS only"},
	} {
		o.SAS = bad.token
		if err := BackupScript(&bytes.Buffer{}, o); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("token %s: got %v, want a refusal saying %q", bad.token, err, bad.want)
		}
	}
	for _, bad := range []BackupOptions{
		{Database: "x", ContainerURL: "http://a.blob.core.windows.net/c", Stripes: 1},
		{Database: "x", ContainerURL: "https://a.blob.core.windows.net/c?sv=1&sig=2", Stripes: 1},
		{Database: "x", ContainerURL: "https://a.blob.core.windows.net/c", Stripes: 65},
		{Database: "", ContainerURL: "https://a.blob.core.windows.net/c", Stripes: 1},
	} {
		if err := BackupScript(&bytes.Buffer{}, bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
}
