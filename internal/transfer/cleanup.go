package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// BundlesFile is where, under the command line's state directory, bundles are recorded
// so that cleanup can find them.
const BundlesFile = "bundles.json"

// BundleRecord is what cleanup needs to know of a bundle made on this machine.
type BundleRecord struct {
	Dir     string    `json:"dir"` // absolute
	Created time.Time `json:"created"`
	Source  Source    `json:"source"`
	Path    string    `json:"path,omitempty"` // SQLite: the de-identified file, absolute
}

// RecordBundle adds a bundle to state/bundles.json.
func RecordBundle(state string, r BundleRecord) error {
	rs, err := readBundles(state)
	if err != nil {
		return err
	}
	return writeBundles(state, append(rs, r))
}

func readBundles(state string) ([]BundleRecord, error) {
	path := filepath.Join(state, BundlesFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rs []BundleRecord
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

func writeBundles(state string, rs []BundleRecord) error {
	if err := os.MkdirAll(state, 0o700); err != nil {
		return err
	}
	return writeJSON(state, BundlesFile, rs, 0o600)
}

// Leftover is something the hand-over left on this machine.
type Leftover struct {
	What  string // "bundle", "token", "grant record"
	Path  string
	Grant *Record // the grant a record or token file belongs to, when known
}

// Leftovers lists what the hand-over created under state and still exists: recorded bundle
// directories, shared-access token files (grants/*.sas) and grant records (grants/*.json),
// and the records of the de-identified databases the bundles came from, which Steward never
// drops itself (see DropStatement).
func Leftovers(state string) ([]Leftover, []BundleRecord, error) {
	rs, err := readBundles(state)
	if err != nil {
		return nil, nil, err
	}
	var ls []Leftover
	for _, r := range rs {
		if _, err := os.Stat(r.Dir); err == nil {
			ls = append(ls, Leftover{What: "bundle", Path: r.Dir})
		}
	}
	dir := filepath.Join(state, GrantsDir)
	grants, err := Ledger{Dir: dir}.Records()
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]*Record{}
	for i := range grants {
		byID[grants[i].ID] = &grants[i]
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(files)
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, ".") {
			continue
		}
		what := "grant record"
		if strings.HasSuffix(base, ".sas") {
			what = "token"
		}
		ls = append(ls, Leftover{What: what, Path: f, Grant: byID[strings.TrimSuffix(strings.TrimSuffix(base, ".json"), ".sas")]})
	}
	return ls, rs, nil
}

// LiveGrants are the grants among ls whose tokens may still work.
func LiveGrants(ls []Leftover) []Record {
	var live []Record
	seen := map[string]bool{}
	now := time.Now()
	for _, l := range ls {
		if l.Grant == nil || seen[l.Grant.ID] {
			continue
		}
		seen[l.Grant.ID] = true
		if dead, _ := l.Grant.Dead(now); !dead {
			live = append(live, *l.Grant)
		}
	}
	return live
}

// RemoveLeftovers removes what Leftovers listed and forgets the recorded bundles. It refuses,
// removing nothing, while a grant among them may still be used (a *LiveError): its record is
// what revokes it. Otherwise it goes on past a failure and reports every path it could not
// remove.
func RemoveLeftovers(state string, ls []Leftover) error {
	if live := LiveGrants(ls); len(live) > 0 {
		return &LiveError{Grants: live}
	}
	var errs []error
	for _, l := range ls {
		if err := os.RemoveAll(l.Path); err != nil {
			errs = append(errs, fmt.Errorf("remove %s %s: %w", l.What, l.Path, err))
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(filepath.Join(state, BundlesFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DropStatement is what the DBA runs to delete the de-identified database a bundle came from,
// once the vendor has confirmed the transfer.
func (r BundleRecord) DropStatement() string {
	switch r.Source.Kind {
	case "postgres":
		return `DROP DATABASE "` + strings.ReplaceAll(r.Source.Database, `"`, `""`) + `";`
	case "mysql":
		return "DROP DATABASE `" + strings.ReplaceAll(r.Source.Database, "`", "``") + "`;"
	case "sqlite":
		return "rm -- '" + strings.ReplaceAll(r.Path, "'", `'\''`) + "'"
	}
	return ""
}
