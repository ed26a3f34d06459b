package sqlserver

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// Covered names the rules DeidScript reproduces; any other rule is refused, naming the table
// and column, when the script is generated.
const Covered = "keep, null, hash (hex alphabet, character columns), pseudonym, placeholder " +
	"(fixed text, hostname, email, IPv4 ip), shift_date, generalize year, month and zip3"

// DeidOptions says what DeidScript writes.
type DeidOptions struct {
	Policy *policy.Policy
	// Key computes the self-test's expected values. The script itself reads the key from
	// the sqlcmd variable StewardKey (0x followed by the key file's bytes in hex) unless
	// EmbedKey holds the key's bytes, which are then written into the script.
	Key      transform.Key
	EmbedKey []byte
}

// The T-SQL expressions below are templates: {col} is the column's value, {by} the shift_date
// entity column's, {w} the column's declared length in characters (0: unbounded), {cut} the
// same with 4000 for unbounded, {hw} the hash width (the length, or 64). The update fills
// them from the live schema at run time — a char or nchar column's value as RTRIM(column),
// its text without the padding, as the engine reads fixed-width columns on every database
// (transform.Unpadded) — and the self-test fills them with literals.

const utf8Collation = "Latin1_General_100_BIN2_UTF8"

// nv is a value as nvarchar(max), the text the engine hashes.
func nv(e string) string { return "CONVERT(nvarchar(max), " + e + ")" }

// utf8 is the UTF-8 bytes of an nvarchar expression, as Go hashes strings (SQL Server 2019+).
func utf8(e string) string {
	return "CONVERT(varbinary(max), CONVERT(varchar(max), " + e + " COLLATE " + utf8Collation + "))"
}

// hmac is HMAC-SHA256 of a varbinary under the key, from HASHBYTES and the key's pads (RFC
// 2104), read from the session's temporary table #steward_key: never a parameter or a
// variable of a statement that touches the database's tables, so no plan, Query Store entry
// or trace of those statements holds them.
func hmac(b string) string {
	return "HASHBYTES('SHA2_256', (SELECT opad FROM #steward_key) + HASHBYTES('SHA2_256', (SELECT ipad FROM #steward_key) + " + b + "))"
}

// derive is transform's Hasher.Derive: the HMAC of 0, label, 0 and the text's UTF-8.
func derive(label, e string) string {
	return hmac(binLit([]byte("\x00"+label+"\x00")) + " + " + utf8(e))
}

// lower is strings.ToLower, as far as SQL Server's Unicode case tables agree with Go's.
func lower(e string) string { return "LOWER(" + e + " COLLATE Latin1_General_100_BIN2)" }

// normalName is transform's normalName: lower case, Unicode white space runs as one space,
// none at either end.
func normalName(e string) string {
	s := lower(e)
	for _, r := range whiteSpace() {
		s = "REPLACE(" + s + ", NCHAR(" + strconv.Itoa(int(r)) + "), N' ')"
	}
	s = "LTRIM(RTRIM(" + s + "))"
	return "REPLACE(REPLACE(REPLACE(" + s + ", N' ', NCHAR(1) + NCHAR(2)), NCHAR(2) + NCHAR(1), N''), NCHAR(1) + NCHAR(2), N' ')"
}

// whiteSpace lists the runes strings.Fields splits on, except the space itself.
func whiteSpace() []rune {
	var rs []rune
	for r := rune(0); r <= 0x3000; r++ {
		if unicode.IsSpace(r) && r != ' ' {
			rs = append(rs, r)
		}
	}
	return rs
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// byWidth is a CASE choosing, for each width from 1 to below full's length, what f gives
// for it, else full.
func byWidth(full string, n int, f func(w int) string) string {
	var b strings.Builder
	b.WriteString("CASE {w}")
	for w := 1; w < n; w++ {
		fmt.Fprintf(&b, " WHEN %d THEN %s", w, lit(f(w)))
	}
	b.WriteString(" ELSE " + lit(full) + " END")
	return b.String()
}

// expr is the T-SQL template for a rule, or an error saying why T-SQL cannot reproduce it.
func expr(r policy.Rule, h *transform.Hasher) (string, error) {
	col := "{col}"
	switch r.Kind {
	case policy.Hash:
		if r.Alphabet != "" && r.Alphabet != policy.Hex {
			return "", fmt.Errorf("hash alphabet %s is not reproduced in T-SQL (only hex)", r.Alphabet)
		}
		return "LEFT(LOWER(CONVERT(varchar(64), " + hmac(utf8(nv(col))) + ", 2)), {hw})", nil
	case policy.Pseudonym:
		full := transform.Pseudonym(h, r.Text, "x", 0)
		prefix := byWidth(full[:len(full)-4], len(r.Text)+5, func(w int) string {
			p := transform.Pseudonym(h, r.Text, "x", w)
			return p[:len(p)-4]
		})
		var suffix []string
		for i := range 4 {
			suffix = append(suffix, fmt.Sprintf("SUBSTRING(s.c, s.x / %d %% 32 + 1, 1)", 1<<(27-5*i)))
		}
		return "(SELECT " + prefix + " + " + strings.Join(suffix, " + ") + " FROM (SELECT CONVERT(bigint, SUBSTRING(" +
			hmac(utf8(normalName(nv(col)))) + ", 1, 4)) AS x, '" + crockford + "' AS c) AS s)", nil
	case policy.Placeholder:
		switch r.Text {
		case policy.PlaceHostname:
			return "(SELECT CASE WHEN {w} = 0 OR {w} >= 21 THEN N'host-' + s.t + N'.invalid' ELSE LEFT(N'host-' + s.t, {w}) END FROM (SELECT " +
				"LOWER(CONVERT(varchar(8), SUBSTRING(" + derive("host", lower(nv(col))) + ", 1, 4), 2)) AS t) AS s)", nil
		case policy.PlaceEmail:
			return "LEFT(N'user-' + LOWER(CONVERT(varchar(10), SUBSTRING(" + derive("email", lower(nv(col))) + ", 1, 5), 2)) + N'@example.invalid', {cut})", nil
		case policy.PlaceIP:
			return ipExpr(h), nil
		case policy.PlaceURL:
			return "", errors.New("placeholder url needs a URL parser T-SQL does not have")
		}
		return "CASE WHEN " + col + " IS NULL THEN NULL ELSE " + byWidth(r.Text, len([]rune(r.Text)), func(w int) string {
			return transform.Place(h, r.Text, "", w)
		}) + " END", nil
	case policy.ShiftDate:
		m := 2*r.Days + 1
		return fmt.Sprintf("DATEADD(day, (SELECT CONVERT(int, (CONVERT(decimal(20,0), s.x) + CASE WHEN s.x < 0 THEN 18446744073709551616 ELSE 0 END) %% %d) - %d FROM (SELECT CONVERT(bigint, SUBSTRING(%s, 1, 8)) AS x) AS s), %s)",
			m, r.Days, derive("shift", "ISNULL("+nv("{by}")+", N'')"), col), nil
	case policy.Generalize:
		switch r.Text {
		case policy.Year:
			return "DATEFROMPARTS(YEAR(" + col + "), 1, 1)", nil
		case policy.Month:
			return "DATEFROMPARTS(YEAR(" + col + "), MONTH(" + col + "), 1)", nil
		case policy.Zip3:
			return zip3Expr(), nil
		}
		return "", fmt.Errorf("generalize %s is not reproduced in T-SQL (only year, month and zip3)", r.Text)
	case policy.Scrub:
		return "", errors.New("scrub needs the run's dictionary of every transformed value and the identifier recognisers")
	}
	return "", fmt.Errorf("rule %s is not reproduced in T-SQL", r.Kind)
}

// zip3Restricted are HIPAA's sparsely populated three-digit ZIP prefixes, as transform has them.
var zip3Restricted = []string{"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890", "893"}

// zip3Expr is generalize zip3: the first three characters, 000 for the restricted prefixes,
// followed by 00 when the value was a five-digit ZIP and the column holds five characters.
func zip3Expr() string {
	var in []string
	for _, z := range zip3Restricted {
		in = append(in, lit(z))
	}
	return "(SELECT CASE WHEN s.z IS NULL THEN NULL WHEN LEN(s.z) < 3 THEN N'000' WHEN s.p LIKE N'%[^0-9]%' THEN s.p WHEN s.p IN (" + strings.Join(in, ", ") + ") THEN N'000' + s.t ELSE s.p + s.t END" +
		" FROM (SELECT z0.z, UPPER(LEFT(z0.z, 3)) AS p, CASE WHEN LEN(z0.z) >= 5 AND LEFT(z0.z, 5) NOT LIKE N'%[^0-9]%' AND ({w} = 0 OR {w} >= 5) THEN N'00' ELSE N'' END AS t" +
		" FROM (SELECT LTRIM(RTRIM(" + nv("{col}") + ")) COLLATE Latin1_General_100_BIN2 AS z) AS z0) AS s)"
}

// ipExpr maps an IPv4 address (with an optional /suffix) as transform.Place does; anything
// that is not a valid IPv4 address gets the engine's constant for invalid input. IPv6
// addresses are refused before anything changes (see the check phase).
func ipExpr(h *transform.Hasher) string {
	part := func(k int) string {
		p := fmt.Sprintf("PARSENAME(s.a, %d)", k)
		return "WHEN " + p + " IS NULL OR LEN(" + p + ") > 3 OR (LEN(" + p + ") > 1 AND LEFT(" + p + ", 1) = N'0') OR TRY_CONVERT(int, " + p + ") > 255 THEN 0 "
	}
	valid := "CASE WHEN LEN(s.a) > 15 OR s.a LIKE N'%[^0-9.]%' THEN 0 " + part(4) + part(3) + part(2) + part(1) + "ELSE 1 END"
	byteN := func(i int) string { return fmt.Sprintf("CONVERT(int, SUBSTRING(d.d, %d, 1))", i) }
	mapped := "N'198.' + CONVERT(nvarchar(3), 18 + " + byteN(1) + " % 2) + N'.' + CONVERT(nvarchar(3), " + byteN(2) + ") + N'.' + CONVERT(nvarchar(3), " + byteN(3) + ") + s.suffix"
	invalid := transform.Place(h, policy.PlaceIP, "not an address", 0)
	slash := "CHARINDEX(N'/', v0.v)"
	return "(SELECT CASE WHEN s.a IS NULL THEN NULL WHEN " + valid + " = 1 THEN LEFT(" + mapped + ", {cut}) ELSE LEFT(" + lit(invalid) + ", {cut}) END" +
		" FROM (SELECT LTRIM(RTRIM(CASE WHEN " + slash + " > 0 THEN LEFT(v0.v, " + slash + " - 1) ELSE v0.v END)) COLLATE Latin1_General_100_BIN2 AS a," +
		" CASE WHEN " + slash + " > 0 THEN SUBSTRING(v0.v, " + slash + ", 4000) ELSE N'' END AS suffix" +
		" FROM (SELECT " + nv("{col}") + " AS v) AS v0) AS s CROSS APPLY (SELECT " + derive("ip", "s.a") + " AS d) AS d)"
}

// column is a policy column as the script handles it.
type column struct {
	id            int
	schema, table string
	name          string
	rule          policy.Rule
	expr          string
}

func splitTable(name string) (schema, table string) {
	if s, t, ok := strings.Cut(name, "."); ok {
		return s, t
	}
	return "dbo", name
}

// DeidScript writes a T-SQL script that applies the policy to a SQL Server database in place.
// Rules T-SQL cannot reproduce exactly are refused here, each naming its table and column.
//
// The script first checks everything — the key (against its fingerprint), its own HMAC and
// rule expressions against values the engine computed for test vectors, and every table,
// column and column type the policy names — and stops with RAISERROR before changing
// anything if one check fails. Then it updates each table with one UPDATE, all in one
// transaction (XACT_ABORT ON: an error rolls everything back).
func DeidScript(w io.Writer, o DeidOptions) error {
	h := o.Key.NewHasher()
	var cols []column
	var errs []string
	for _, t := range o.Policy.Tables {
		schema, table := splitTable(t.Name)
		for _, c := range t.Columns {
			col := column{id: len(cols) + 1, schema: schema, table: table, name: c.Name, rule: c.Rule}
			if c.Rule.Kind != policy.Keep && c.Rule.Kind != policy.Null {
				e, err := expr(c.Rule, h)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s:%d:%d: table %s, column %s: %v", o.Policy.File, c.Pos.Line, c.Pos.Column, t.Name, c.Name, err))
					continue
				}
				if c.Rule.Kind == policy.ShiftDate {
					if t.Column(c.Rule.By) == nil && o.Policy.Default != policy.Keep {
						errs = append(errs, fmt.Sprintf("%s:%d:%d: table %s, column %s: shift_date by column %s is not in the policy", o.Policy.File, c.Pos.Line, c.Pos.Column, t.Name, c.Name, c.Rule.By))
					}
				}
				col.expr = e
			}
			cols = append(cols, col)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the policy cannot be applied by a T-SQL script:\n  %s\nT-SQL reproduces: %s; use `steward deid run` on a copy for the rest", strings.Join(errs, "\n  "), Covered)
	}
	sw := &scriptWriter{w: w}
	run := runInfo{fingerprint: o.Key.Fingerprint(), policy: policyDigest(o.Policy)}
	writeHeader(sw, o)
	writePrepare(sw, o.Policy, run)
	writeKey(sw, o)
	writeSelfTest(sw, o, h)
	writeChecks(sw, o.Policy, cols)
	writeConstraints(sw, run)
	writeUpdates(sw, cols, run)
	writeFinish(sw, run)
	return sw.err
}

type scriptWriter struct {
	w   io.Writer
	err error
}

func (s *scriptWriter) f(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

// vector is one self-test case: a rule's template filled with literals, and what the engine
// gives.
type vector struct {
	what, expr, want string
}

func fill(e string, width int, col, by string) string {
	cut, hw := width, transform.HashWidth(policy.Hex, width)
	if width == 0 {
		cut = 4000
	}
	return strings.NewReplacer("{col}", col, "{by}", by, "{w}", strconv.Itoa(width), "{cut}", strconv.Itoa(cut), "{hw}", strconv.Itoa(hw)).Replace(e)
}

// vectors computes the engine's outputs with the real transform code for inputs that
// exercise what T-SQL must get right: UTF-8, quotes, white space, case, widths.
func vectors(h *transform.Hasher) []vector {
	inputs := []string{"", "MRN0012345", "Jane Doe", "  Zoë   LEFÈVRE ", "O'Brien\tSeán\n", "張偉", "José 🙂 Müller", "ws01.stmarys.local"}
	var vs []vector
	add := func(r policy.Rule, in string, width int, want string) {
		e, err := expr(r, h)
		if err != nil {
			panic(err) // only covered rules are tested
		}
		vs = append(vs, vector{fmt.Sprintf("%s, width %d, input %d", r, width, len(vs)+1), fill(e, width, lit(in), ""), want})
	}
	// A char(n) column's value as the update reads it (RTRIM), against the engine reading the
	// same padded value from a fixed-width column: trailing blanks go, tabs and the rest stay.
	fixed := &database.Column{Name: "mrn", Type: database.Text, Native: "char(16)", Length: 16}
	hashFixed, err := transform.Compile(policy.Rule{Kind: policy.Hash}, &database.Table{Name: "t", Columns: []*database.Column{fixed}}, fixed, nil, nil)
	if err != nil {
		panic(err)
	}
	for _, in := range []string{"MRN0012345      ", "MRN0012345", "MRN 7 \t  ", "   ", "Zoë  "} {
		out, err := hashFixed(h, database.Row{in}, in)
		if err != nil {
			panic(err)
		}
		e, _ := expr(policy.Rule{Kind: policy.Hash}, h)
		vs = append(vs, vector{fmt.Sprintf("hash of a char(16) column, input %d", len(vs)+1), fill(e, 16, "RTRIM("+lit(in)+")", ""), out.(string)})
	}
	for _, in := range inputs {
		d := hex.EncodeToString(h.Sum(in))
		add(policy.Rule{Kind: policy.Hash}, in, 0, d)
		add(policy.Rule{Kind: policy.Hash}, in, 11, d[:11])
		for _, width := range []int{0, 9, 3} {
			add(policy.Rule{Kind: policy.Pseudonym, Text: "Campus"}, in, width, transform.Pseudonym(h, "Campus", in, width))
		}
		for _, kind := range []string{policy.PlaceHostname, policy.PlaceEmail} {
			for _, width := range []int{0, 15} {
				add(policy.Rule{Kind: policy.Placeholder, Text: kind}, in, width, transform.Place(h, kind, in, width))
			}
		}
	}
	for _, in := range []string{"192.168.1.20", "10.0.0.1/24", " 172.16.5.4 ", "010.1.1.1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "[1].2.3.4", "0.0.0.0", "255.255.255.255/32"} {
		for _, width := range []int{0, 12} {
			add(policy.Rule{Kind: policy.Placeholder, Text: policy.PlaceIP}, in, width, transform.Place(h, policy.PlaceIP, in, width))
		}
	}
	zip := policy.Rule{Kind: policy.Generalize, Text: policy.Zip3}
	for _, in := range []string{"02139", "02139-1234", "03601", " 94110 ", "sw1a 1aa", "12", "9411", "abcde", "8930"} {
		for _, width := range []int{0, 3, 5} {
			c := &database.Column{Name: "zip", Type: database.Text, Length: width}
			f, err := transform.Compile(zip, &database.Table{Name: "t", Columns: []*database.Column{c}}, c, nil, nil)
			if err != nil {
				panic(err)
			}
			out, err := f(h, database.Row{in}, in)
			if err != nil {
				panic(err)
			}
			add(zip, in, width, out.(string))
		}
	}
	add(policy.Rule{Kind: policy.Placeholder, Text: "SERVER-REDACTED"}, "x", 6, transform.Place(h, "SERVER-REDACTED", "x", 6))
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	r := policy.Rule{Kind: policy.ShiftDate, By: "id", Days: 365}
	e, _ := expr(r, h)
	for _, entity := range append(inputs, "12345", "-7") {
		want := day.AddDate(0, 0, transform.ShiftDays(h, entity, r.Days)).Format(time.DateOnly)
		vs = append(vs, vector{fmt.Sprintf("%s, entity %d", r, len(vs)+1), "CONVERT(varchar(10), " + fill(e, 0, "DATEFROMPARTS(2000, 1, 1)", lit(entity)) + ", 23)", want})
	}
	return vs
}

func writeSelfTest(s *scriptWriter, o DeidOptions, h *transform.Hasher) {
	fp, _ := hex.DecodeString(o.Key.Fingerprint())
	s.f("-- Self-test 1: the key is the one the script was generated for (fingerprint %s).\n", o.Key.Fingerprint())
	s.f("IF SUBSTRING(%s, 1, 8) <> %s\nBEGIN\n    RAISERROR(N'steward: wrong key: its fingerprint is not %s', 16, 1);\n    RETURN;\nEND;\n\n",
		hmac("CONVERT(varbinary(max), 'steward key fingerprint')"), binLit(fp), o.Key.Fingerprint())
	s.f("-- Self-test 2: T-SQL gives what Steward's engine gives for these inputs.\n")
	for i, v := range vectors(h) {
		s.f("IF ISNULL(CONVERT(varbinary(max), CONVERT(nvarchar(max), %s)), 0x01) <> CONVERT(varbinary(max), %s)\nBEGIN\n    RAISERROR(N'steward self-test %d failed (%%s): this server computes differently from the engine; nothing was changed', 16, 1, %s);\n    RETURN;\nEND;\n",
			v.expr, lit(v.want), i+1, lit(v.what))
	}
	s.f("\n")
}

var typeSets = map[policy.Kind]string{
	policy.Hash:        "N'char', N'varchar', N'nchar', N'nvarchar'",
	policy.Pseudonym:   "N'char', N'varchar', N'nchar', N'nvarchar'",
	policy.Placeholder: "N'char', N'varchar', N'nchar', N'nvarchar'",
	policy.ShiftDate:   "N'date', N'datetime', N'datetime2', N'smalldatetime', N'datetimeoffset'",
	policy.Generalize:  "N'date', N'datetime', N'datetime2', N'smalldatetime', N'datetimeoffset'",
}

// types is the column types a rule suits in the script.
func types(r policy.Rule) string {
	if r.Kind == policy.Generalize && r.Text == policy.Zip3 {
		return typeSets[policy.Hash]
	}
	return typeSets[r.Kind]
}

func where(c column) string {
	return "TABLE_SCHEMA = " + lit(c.schema) + " AND TABLE_NAME = " + lit(c.table) + " AND COLUMN_NAME = " + lit(c.name)
}

func writeChecks(s *scriptWriter, p *policy.Policy, cols []column) {
	s.f("-- Checks: every table and column exists with a type its rule suits.\n")
	s.f("DECLARE @cols TABLE (id int PRIMARY KEY, w int, type sysname, nullable varchar(3), input nvarchar(300), by_input nvarchar(300));\n")
	s.f("DECLARE @type sysname, @len int, @nullable varchar(3), @missing nvarchar(max), @n bigint, @id int, @bytype sysname;\n")
	s.f("DECLARE @set nvarchar(max), @sql nvarchar(max), @ws nvarchar(10), @cut nvarchar(10), @hw nvarchar(10), @in nvarchar(300), @by nvarchar(300);\n")
	s.f("-- The rewritten columns and tables, for the foreign keys, triggers and rebuilds below.\n")
	s.f("IF OBJECT_ID(N'tempdb..#steward_cols') IS NOT NULL DROP TABLE #steward_cols;\nCREATE TABLE #steward_cols (object_id int NOT NULL, column_id int NOT NULL, rule_text nvarchar(400) NOT NULL, w int NOT NULL, PRIMARY KEY (object_id, column_id));\n")
	s.f("IF OBJECT_ID(N'tempdb..#steward_tables') IS NOT NULL DROP TABLE #steward_tables;\nCREATE TABLE #steward_tables (object_id int NOT NULL PRIMARY KEY);\n")
	if p.Default != policy.Keep {
		var names []string
		for _, t := range p.Tables {
			schema, table := splitTable(t.Name)
			names = append(names, lit(schema+"."+table))
		}
		for _, t := range stewardTables {
			names = append(names, lit("dbo."+t))
		}
		s.f("SELECT @missing = STRING_AGG(CONVERT(nvarchar(max), CONCAT(TABLE_SCHEMA, N'.', TABLE_NAME)), N', ') FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = N'BASE TABLE' AND CONCAT(TABLE_SCHEMA, N'.', TABLE_NAME) NOT IN (%s);\n", strings.Join(names, ", "))
		s.f("IF @missing IS NOT NULL\nBEGIN\n    RAISERROR(N'steward: tables not in the policy, whose default is error: %%s', 16, 1, @missing);\n    RETURN;\nEND;\n")
	}
	seen := map[string]bool{}
	for _, c := range cols {
		qt := ident(c.schema) + "." + ident(c.table)
		if !seen[qt] {
			seen[qt] = true
			s.f("\n-- %s\nIF OBJECT_ID(%s, N'U') IS NULL\nBEGIN\n    RAISERROR(N'steward: table %%s.%%s does not exist', 16, 1, %s, %s);\n    RETURN;\nEND;\n",
				comment(qt), lit(qt), lit(c.schema), lit(c.table))
			if p.Default != policy.Keep {
				var names []string
				for _, o := range cols {
					if o.schema == c.schema && o.table == c.table {
						names = append(names, lit(o.name))
					}
				}
				s.f("SELECT @missing = STRING_AGG(CONVERT(nvarchar(max), COLUMN_NAME), N', ') FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_NAME NOT IN (%s);\n",
					lit(c.schema), lit(c.table), strings.Join(names, ", "))
				s.f("IF @missing IS NOT NULL\nBEGIN\n    RAISERROR(N'steward: table %%s.%%s has columns the policy does not list (default: error): %%s', 16, 1, %s, %s, @missing);\n    RETURN;\nEND;\n",
					lit(c.schema), lit(c.table))
			}
		}
		s.f("SELECT @type = DATA_TYPE, @len = CHARACTER_MAXIMUM_LENGTH, @nullable = IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS WHERE %s;\n", where(c))
		s.f("IF @@ROWCOUNT = 0\nBEGIN\n    RAISERROR(N'steward: column %%s.%%s.%%s does not exist', 16, 1, %s, %s, %s);\n    RETURN;\nEND;\n", lit(c.schema), lit(c.table), lit(c.name))
		args := lit(c.schema) + ", " + lit(c.table) + ", " + lit(c.name)
		switch c.rule.Kind {
		case policy.Null:
			s.f("IF @nullable = 'NO' AND @type NOT IN (N'char', N'varchar', N'nchar', N'nvarchar', N'tinyint', N'smallint', N'int', N'bigint', N'decimal', N'numeric', N'float', N'real', N'money', N'smallmoney', N'bit', N'binary', N'varbinary')\n")
			s.f("BEGIN\n    RAISERROR(N'steward: %%s.%%s.%%s is NOT NULL and of type %%s, which has no empty value: choose another rule', 16, 1, %s, @type);\n    RETURN;\nEND;\n", args)
		case policy.Keep:
		default:
			if c.rule.Kind == policy.Hash {
				s.f("IF @type IN (N'tinyint', N'smallint', N'int', N'bigint')\nBEGIN\n    RAISERROR(N'steward: %%s.%%s.%%s is an integer column: the engine hashes integers by a keyed permutation the T-SQL script does not reproduce; use steward deid run', 16, 1, %s);\n    RETURN;\nEND;\n", args)
			}
			s.f("IF @type NOT IN (%s)\nBEGIN\n    RAISERROR(N'steward: %%s.%%s.%%s is of type %%s; rule %%s applies to %s in this script', 16, 1, %s, @type, %s);\n    RETURN;\nEND;\n",
				types(c.rule), strings.NewReplacer("N'", "", "'", "").Replace(types(c.rule)), args, lit(c.rule.String()))
		}
		if c.rule.Kind == policy.Placeholder && c.rule.Text == policy.PlaceIP {
			s.f("EXEC sp_executesql N'SELECT @n = COUNT_BIG(*) FROM %s WHERE CHARINDEX(N'':'', CONVERT(nvarchar(max), %s)) > 0', N'@n bigint OUTPUT', @n OUTPUT;\n",
				strings.ReplaceAll(ident(c.schema)+"."+ident(c.table), "'", "''"), strings.ReplaceAll(ident(c.name), "'", "''"))
			s.f("IF @n > 0\nBEGIN\n    RAISERROR(N'steward: %%s.%%s.%%s holds IPv6 addresses; the T-SQL script maps IPv4 only: use steward deid run', 16, 1, %s);\n    RETURN;\nEND;\n", args)
		}
		// A char or nchar column's value is read without its padding, as the engine reads it.
		in := "CASE WHEN @type IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(" + lit(c.name) + ") + N')' ELSE QUOTENAME(" + lit(c.name) + ") END"
		by := "NULL"
		if c.rule.Kind == policy.ShiftDate {
			s.f("SET @bytype = (SELECT DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND COLUMN_NAME = %s);\n", lit(c.schema), lit(c.table), lit(c.rule.By))
			s.f("IF @bytype IS NULL\nBEGIN\n    RAISERROR(N'steward: %%s.%%s.%%s: shift_date by column %%s does not exist', 16, 1, %s, %s);\n    RETURN;\nEND;\n", args, lit(c.rule.By))
			by = "CASE WHEN @bytype IN (N'char', N'nchar') THEN N'RTRIM(' + QUOTENAME(" + lit(c.rule.By) + ") + N')' ELSE QUOTENAME(" + lit(c.rule.By) + ") END"
		}
		s.f("INSERT @cols VALUES (%d, CASE WHEN @len > 0 THEN @len ELSE 0 END, @type, @nullable, %s, %s);\n", c.id, in, by)
		if c.rule.Transforms() {
			qt := lit(ident(c.schema) + "." + ident(c.table))
			s.f("INSERT #steward_cols VALUES (OBJECT_ID(%s), COLUMNPROPERTY(OBJECT_ID(%s), %s, 'ColumnId'), %s, CASE WHEN @len > 0 THEN @len ELSE 0 END);\n", qt, qt, lit(c.name), lit(c.rule.String()))
			s.f("IF NOT EXISTS (SELECT 1 FROM #steward_tables WHERE object_id = OBJECT_ID(%s)) INSERT #steward_tables VALUES (OBJECT_ID(%s));\n", qt, qt)
		}
	}
	s.f(`
-- Foreign keys: both ends of one on a rewritten column must get the same rule and width, or the
-- join would break (the engine refuses such a policy too).
SELECT @missing = STRING_AGG(CONVERT(nvarchar(max), QUOTENAME(OBJECT_SCHEMA_NAME(k.constraint_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(k.constraint_object_id))
    + N' (' + COL_NAME(k.parent_object_id, k.parent_column_id) + N' -> ' + COL_NAME(k.referenced_object_id, k.referenced_column_id) + N')'), N', ')
FROM sys.foreign_key_columns AS k
LEFT JOIN #steward_cols AS p ON p.object_id = k.parent_object_id AND p.column_id = k.parent_column_id
LEFT JOIN #steward_cols AS r ON r.object_id = k.referenced_object_id AND r.column_id = k.referenced_column_id
WHERE (p.object_id IS NOT NULL OR r.object_id IS NOT NULL)
  AND (p.object_id IS NULL OR r.object_id IS NULL OR p.rule_text <> r.rule_text OR p.w <> r.w);
IF @missing IS NOT NULL
BEGIN
    RAISERROR(N'steward: foreign keys whose two ends get different rules or widths (joins would break): %%s; give both ends the same rule', 16, 1, @missing);
    RETURN;
END;
`)
}
