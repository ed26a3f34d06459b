package disclosure

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// caseMeta is a corpus case's meta.json: the file's metadata and the project's rules.
type caseMeta struct {
	Meta
	Rules Rules `json:"rules"`
}

type want struct {
	Verdict  Verdict           `json:"verdict"`
	Outright bool              `json:"outright"`
	Reasons  []string          `json:"reasons"`
	Hidden   map[string][]Rule `json:"hidden"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkFile reads and checks one CSV of the corpus.
func checkFile(t *testing.T, csvPath, metaPath string, earlier []Release) *Result {
	t.Helper()
	var m caseMeta
	readJSON(t, metaPath, &m)
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, head, err := ReadCSV(filepath.Base(csvPath), f, m.Meta)
	if err != nil {
		t.Fatal(err)
	}
	return Check(tab, head, m.Rules, earlier)
}

// TestCorpus checks every table of testdata/corpus against its known verdict: the verdict,
// whether it is refused outright, the reasons, and exactly which cells are hidden by which
// rules. Earlier releases (earlierN.csv) are checked and recorded in the ledger first.
func TestCorpus(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/corpus/*")
	if len(dirs) < 10 {
		t.Fatalf("got %d corpus cases, want at least 10", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var ledger []Release
			for i := 0; ; i++ {
				p := filepath.Join(dir, fmt.Sprintf("earlier%d", i))
				if _, err := os.Stat(p + ".csv"); err != nil {
					break
				}
				r := checkFile(t, p+".csv", p+".json", ledger)
				if r.Verdict != Pass {
					t.Fatalf("earlier release %d: got %s, want pass", i, r.Verdict)
				}
				ledger = append(ledger, r.Record(fmt.Sprintf("earlier%d", i), "ann", "req-1", time.Now(), false))
			}
			var w want
			readJSON(t, filepath.Join(dir, "want.json"), &w)
			r := checkFile(t, filepath.Join(dir, "table.csv"), filepath.Join(dir, "meta.json"), ledger)
			got := map[string][]Rule{}
			for _, e := range r.Hidden {
				for _, f := range e.Findings {
					got[e.Cell] = append(got[e.Cell], f.Rule)
				}
			}
			if w.Hidden == nil {
				w.Hidden = map[string][]Rule{}
			}
			if r.Verdict != w.Verdict || r.Outright != w.Outright {
				t.Errorf("got verdict %s (outright %v), want %s (outright %v); reasons %q", r.Verdict, r.Outright, w.Verdict, w.Outright, r.Reasons)
			}
			if !w.Outright {
				if !reflect.DeepEqual(got, w.Hidden) {
					t.Errorf("got hidden cells %v, want %v; reasons %q", got, w.Hidden, r.Reasons)
				}
			}
			if w.Reasons != nil && !slices.Equal(r.Reasons, w.Reasons) {
				t.Errorf("got reasons %q, want %q", r.Reasons, w.Reasons)
			}
			if r.Outright && len(r.Reasons) == 0 {
				t.Error("refused outright without a reason")
			}
		})
	}
}
