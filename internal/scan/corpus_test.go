package scan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// A corpus fixture (testdata/corpus/*.yaml) is a schema written the way a hospital's or a
// vendor's database is, the rows to fill it with, and for every column whether it is
// identifying. Each column is "y TEMPLATE" (identifying) or "n TEMPLATE", where "?NN " after
// the label makes NN % of the values NULL and the template makes one value:
//
//	{seq}            the row number, from 1      {int:A-B}       a whole number in [A, B]
//	{digits:N}       N random digits             {first} {last}  a given name, a surname (testdata/corpus/names.yaml)
//	{date:Y1-Y2}     a date in those years       {datetime:Y1-Y2} a date and time
//	{ref:TABLE}      a row number of TABLE       {pick:A;B;C}    one of the alternatives, themselves templates
//
// Anything else is copied. The names are not the scanner's dictionaries: a third of them are
// names the dictionaries do not hold.
type fixture struct {
	Schema string        `yaml:"schema"`
	Rows   int           `yaml:"rows"`
	Tables yaml.MapSlice `yaml:"tables"`
}

type fixtureTable struct {
	Rows    int           `yaml:"rows"`
	Columns yaml.MapSlice `yaml:"columns"`
}

type column struct {
	table, name string
	identifying bool
	null        int
	template    string
}

type corpus struct {
	name   string
	schema []string // statements
	tables []string // in insert order
	rows   map[string]int
	cols   map[string][]column
}

func loadCorpus(t testing.TB, path string) *corpus {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := &corpus{name: strings.TrimSuffix(filepath.Base(path), ".yaml"), rows: map[string]int{}, cols: map[string][]column{}}
	for _, st := range strings.Split(f.Schema, ";") {
		if st = strings.TrimSpace(st); st != "" {
			c.schema = append(c.schema, st)
		}
	}
	for _, item := range f.Tables {
		name := fmt.Sprint(item.Key)
		raw, _ := yaml.Marshal(item.Value)
		var ft fixtureTable
		if err := yaml.Unmarshal(raw, &ft); err != nil {
			t.Fatalf("%s: table %s: %v", path, name, err)
		}
		c.tables = append(c.tables, name)
		c.rows[name] = cmp(ft.Rows, f.Rows)
		for _, ci := range ft.Columns {
			spec := fmt.Sprint(ci.Value)
			label, rest, _ := strings.Cut(spec, " ")
			col := column{table: name, name: fmt.Sprint(ci.Key), identifying: label == "y"}
			if label != "y" && label != "n" {
				t.Fatalf("%s: %s.%s: label must be y or n, got %q", path, name, col.name, label)
			}
			if strings.HasPrefix(rest, "?") {
				p, tmpl, _ := strings.Cut(rest[1:], " ")
				fmt.Sscan(p, &col.null)
				rest = tmpl
			}
			col.template = rest
			c.cols[name] = append(c.cols[name], col)
		}
	}
	return c
}

func cmp(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

type names struct {
	First []string `yaml:"first"`
	Last  []string `yaml:"last"`
}

func loadNames(t testing.TB) names {
	b, err := os.ReadFile("testdata/corpus/names.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var n names
	if err := yaml.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// gen expands a template.
type gen struct {
	r     *rand.Rand
	names names
	rows  map[string]int
	seq   int
}

func (g *gen) expand(tmpl string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if tmpl[i] != '{' {
			b.WriteByte(tmpl[i])
			i++
			continue
		}
		depth, j := 0, i
		for ; j < len(tmpl); j++ {
			if tmpl[j] == '{' {
				depth++
			} else if tmpl[j] == '}' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		b.WriteString(g.token(tmpl[i+1 : j]))
		i = j + 1
	}
	return b.String()
}

func (g *gen) token(tok string) string {
	name, arg, _ := strings.Cut(tok, ":")
	lo, hi := 0, 0
	fmt.Sscanf(arg, "%d-%d", &lo, &hi)
	switch name {
	case "seq":
		return fmt.Sprint(g.seq)
	case "int":
		return fmt.Sprint(lo + g.r.IntN(hi-lo+1))
	case "digits":
		n := 0
		fmt.Sscan(arg, &n)
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + g.r.IntN(10)))
		}
		return b.String()
	case "first":
		return g.names.First[g.r.IntN(len(g.names.First))]
	case "last":
		return g.names.Last[g.r.IntN(len(g.names.Last))]
	case "date", "datetime":
		y := lo + g.r.IntN(hi-lo+1)
		s := fmt.Sprintf("%04d-%02d-%02d", y, 1+g.r.IntN(12), 1+g.r.IntN(28))
		if name == "datetime" {
			s += fmt.Sprintf(" %02d:%02d:00", g.r.IntN(24), g.r.IntN(60))
		}
		return s
	case "ref":
		return fmt.Sprint(1 + g.r.IntN(g.rows[arg]))
	case "pick":
		var alts []string
		depth, start := 0, 0
		for i := 0; i < len(arg); i++ {
			switch arg[i] {
			case '{':
				depth++
			case '}':
				depth--
			case ';':
				if depth == 0 {
					alts = append(alts, arg[start:i])
					start = i + 1
				}
			}
		}
		alts = append(alts, arg[start:])
		return g.expand(alts[g.r.IntN(len(alts))])
	}
	panic("unknown template token {" + tok + "}")
}

// load creates the corpus's tables in the database dsn names and fills them.
func (c *corpus) load(t testing.TB, dsn string, n names) {
	t.Helper()
	db := dbtest.SQL(t, dsn)
	for _, st := range c.schema {
		if _, err := db.Exec(st); err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, st)
		}
	}
	g := &gen{r: rand.New(rand.NewPCG(1, uint64(len(c.name)))), names: n, rows: c.rows}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range c.tables {
		cols := c.cols[table]
		names := make([]string, len(cols))
		for i, col := range cols {
			names[i] = col.name
		}
		var vals []string
		flush := func() {
			if len(vals) == 0 {
				return
			}
			q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES " + strings.Join(vals, ", ")
			if _, err := tx.Exec(q); err != nil {
				t.Fatalf("%s: insert into %s: %v", c.name, table, err)
			}
			vals = vals[:0]
		}
		for row := 1; row <= c.rows[table]; row++ {
			g.seq = row
			v := make([]string, len(cols))
			for i, col := range cols {
				if col.null > 0 && g.r.IntN(100) < col.null {
					v[i] = "NULL"
					continue
				}
				v[i] = "'" + strings.ReplaceAll(g.expand(col.template), "'", "''") + "'"
			}
			vals = append(vals, "("+strings.Join(v, ", ")+")")
			if len(vals) == 100 {
				flush()
			}
		}
		flush()
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func corpusFiles(t testing.TB) []string {
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "names.yaml" {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// scanCorpus loads a corpus into dsn, scans it and checks that the policy fits; it returns
// the result and counts of true and false positives and negatives.
func scanCorpus(t *testing.T, c *corpus, dsn string, n names) (res *Result, tp, fp, fn, tn int) {
	t.Helper()
	c.load(t, dsn, n)
	ctx := context.Background()
	db, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err = Scan(ctx, db, Options{})
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	for _, table := range c.tables {
		for _, col := range c.cols[table] {
			d := res.Decision(strings.ToLower(table), strings.ToLower(col.name))
			if d == nil {
				t.Errorf("%s: %s.%s: no decision", c.name, table, col.name)
				continue
			}
			switch got := d.Identifying(); {
			case got && col.identifying:
				tp++
			case got:
				fp++
				t.Logf("%s: false positive %s.%s: %s  # %s", c.name, table, col.name, d.Rule, d.Comment())
			case col.identifying:
				fn++
				t.Errorf("%s: missed identifying column %s.%s: %s  # %s", c.name, table, col.name, d.Rule, d.Comment())
			default:
				tn++
			}
		}
	}
	return res, tp, fp, fn, tn
}

// TestCorpus measures the scan on the labelled corpus: recall must be 100 % and precision
// at least 90 % over the identifying columns (identifying: any rule but keep).
func TestCorpus(t *testing.T) {
	n := loadNames(t)
	var tp, fp, fn, tn int
	for _, f := range corpusFiles(t) {
		c := loadCorpus(t, f)
		dsn := "sqlite:" + filepath.Join(t.TempDir(), c.name+".db")
		res, a, b, cc, d := scanCorpus(t, c, dsn, n)
		tp, fp, fn, tn = tp+a, fp+b, fn+cc, tn+d
		if testing.Verbose() {
			t.Logf("%s policy:\n%s", c.name, res.Policy)
		}
	}
	cols := tp + fp + fn + tn
	recall := 100 * float64(tp) / float64(max(tp+fn, 1))
	precision := 100 * float64(tp) / float64(max(tp+fp, 1))
	fmt.Printf("scan corpus: %d schemas, %d columns (%d identifying): recall %.1f %% (%d/%d), precision %.1f %% (%d/%d)\n",
		len(corpusFiles(t)), cols, tp+fn, recall, tp, tp+fn, precision, tp, tp+fp)
	if cols < 120 || len(corpusFiles(t)) < 5 {
		t.Errorf("corpus has %d schemas and %d columns, want at least 5 and 120", len(corpusFiles(t)), cols)
	}
	if recall < 100 {
		t.Errorf("recall %.1f %%, want 100 %%", recall)
	}
	if precision < 90 {
		t.Errorf("precision %.1f %%, want at least 90 %%", precision)
	}
}

// TestCorpusServers scans one corpus schema on PostgreSQL and on MariaDB: no identifying
// column may be missed, and deid run must accept the policy and copy the database with it.
func TestCorpusServers(t *testing.T) {
	n := loadNames(t)
	c := loadCorpus(t, "testdata/corpus/scheduling.yaml")
	for _, s := range []struct {
		name        string
		dsn, target func(testing.TB) string
	}{{"postgres", dbtest.Postgres, dbtest.PostgresName}, {"mysql", dbtest.MySQL, dbtest.MySQLName}} {
		t.Run(s.name, func(t *testing.T) {
			src := s.dsn(t)
			res, _, _, fn, _ := scanCorpus(t, c, src, n)
			if fn > 0 {
				t.Errorf("%d identifying columns missed on %s", fn, s.name)
			}
			pol, err := policy.Parse("scan.yaml", res.Policy)
			if err != nil {
				t.Fatal(err)
			}
			key, err := transform.NewKey([]byte("scan-test-key-0123456789abcdef"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := deid.Run(context.Background(), deid.Options{Policy: pol, Key: key, Source: src, Target: s.target(t)}); err != nil {
				t.Errorf("deid run with the scanned policy on %s: %v", s.name, err)
			}
		})
	}
}
