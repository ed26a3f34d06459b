package deid

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/policy"
)

// ErrOtherRun is the error (inside the one Run returns) of an in-place run refused because
// another run — another key or another policy — has rewritten some or all of the database.
var ErrOtherRun = errors.New("another run de-identified this database")

// normalPolicy is the policy as a run applies it to a schema: for every table (by name), a
// line with its name and one "  column: rule" line per column (by name) — whatever the policy
// file's comments, layout, order or default. Quasi-identifiers, which verify reads and the run
// does not, are not part of it.
func normalPolicy(pol *policy.Policy, s *database.Schema) string {
	var b strings.Builder
	for _, t := range s.Tables {
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		sort.Strings(names)
		b.WriteString(plainOrQuoted(t.Name))
		b.WriteString(":\n")
		for _, name := range names {
			r, _ := pol.Rule(t.Name, name)
			r.Pos = policy.Pos{}
			if r.Kind == policy.Hash && r.Alphabet == policy.Hex {
				r.Alphabet = ""
			}
			r.Text, r.By = plainOrQuoted(r.Text), plainOrQuoted(r.By)
			b.WriteString("  ")
			b.WriteString(plainOrQuoted(name))
			b.WriteString(": ")
			b.WriteString(r.String())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// plainOrQuoted quotes a name or text that could be read as more than one.
func plainOrQuoted(s string) string {
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r == ' ' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return strconv.Quote(s)
		}
	}
	return s
}

// identify makes the run's identity: the normalised policy, its digest, and the identifier
// derived from that digest and the key's fingerprint.
func (e *engine) identify(start time.Time) {
	tables := 0
	for _, p := range e.plans {
		if p.active {
			tables++
		}
	}
	norm := normalPolicy(e.opts.Policy, e.schema)
	sum := sha256.Sum256([]byte(norm))
	digest := hex.EncodeToString(sum[:8])
	fp := e.opts.Key.Fingerprint()
	id := sha256.Sum256([]byte(digest + "\x00" + fp))
	e.run = database.Run{ID: hex.EncodeToString(id[:12]), KeyFingerprint: fp, PolicyDigest: digest, Policy: norm, Tables: tables,
		Started: start.UTC().Truncate(time.Second)}
}

// fromLedger reads what the ledger says of this database: the tables this run has done, or
// a refusal when another run recorded any.
func (e *engine) fromLedger(ledger []database.Progress) (map[string]bool, error) {
	done := map[string]bool{}
	var other []database.Progress
	for _, p := range ledger {
		switch {
		case p.ID == e.run.ID:
			done[p.Table] = true
		case len(other) == 0 || p.ID == other[0].ID:
			other = append(other, p)
		}
	}
	if len(other) > 0 {
		return nil, e.refusal(other)
	}
	return done, nil
}

// refusal says which run rewrote the database, when, how far it got, and how this run differs.
func (e *engine) refusal(rows []database.Progress) error {
	r := rows[0].Run
	var tables []string
	last := rows[0].Done
	for _, p := range rows {
		tables = append(tables, p.Table)
		if p.Done.After(last) {
			last = p.Done
		}
	}
	sort.Strings(tables)
	state, advice := "finished", "Nothing is left for that run to do; to de-identify with another key or policy, start again from a fresh copy of the original database"
	if len(rows) < r.Tables {
		state, advice = "in progress", "Finish it with that run's key and policy (the command that began it), or start again from a fresh copy of the original database"
	}
	var diffs []string
	if r.KeyFingerprint != e.run.KeyFingerprint {
		diffs = append(diffs, fmt.Sprintf("its key (fingerprint %s then, %s now)", r.KeyFingerprint, e.run.KeyFingerprint))
	}
	if r.PolicyDigest != e.run.PolicyDigest {
		d := fmt.Sprintf("its policy (rules digest %s then, %s now)", r.PolicyDigest, e.run.PolicyDigest)
		if cols := ruleChanges(r.Policy, e.run.Policy); len(cols) > 0 {
			d += ": " + strings.Join(cols, "; ")
		}
		diffs = append(diffs, d)
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "its identifier")
	}
	return fmt.Errorf("%w: refused, so as never to transform a value twice: %s was de-identified in place by run %s (key %s, rules digest %s), started %s, %s — %d of %d tables done (%s), the last at %s; this run (%s) differs in %s. %s",
		ErrOtherRun, database.Redact(e.opts.Source), r.ID, r.KeyFingerprint, r.PolicyDigest, r.Started.Format("2006-01-02 15:04:05 UTC"), state,
		len(rows), r.Tables, strings.Join(tables, ", "), last.Format("2006-01-02 15:04:05 UTC"), e.run.ID, strings.Join(diffs, " and "), advice)
}

// ruleChanges lists the tables and columns whose rules differ between two normalised
// policies.
func ruleChanges(then, now string) []string {
	a, b := parseNormal(then), parseNormal(now)
	var out []string
	for _, t := range unionKeys(a, b) {
		x, inA := a[t]
		y, inB := b[t]
		switch {
		case !inA:
			out = append(out, fmt.Sprintf("table %s: not in the database then", t))
		case !inB:
			out = append(out, fmt.Sprintf("table %s: not in the database now", t))
		default:
			for _, c := range unionKeys(x, y) {
				r, s := x[c], y[c]
				if r == s {
					continue
				}
				if r == "" {
					r = "no such column"
				}
				if s == "" {
					s = "no such column"
				}
				out = append(out, fmt.Sprintf("%s.%s: %s then, %s now", t, c, r, s))
			}
		}
	}
	return out
}

// parseNormal reads normalPolicy's text back: table → column → rule.
func parseNormal(s string) map[string]map[string]string {
	m := map[string]map[string]string{}
	var cols map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if col, ok := strings.CutPrefix(line, "  "); ok {
			if c, rule, ok := strings.Cut(col, ": "); ok && cols != nil {
				cols[c] = rule
			}
		} else if line != "" {
			cols = map[string]string{}
			m[strings.TrimSuffix(line, ":")] = cols
		}
	}
	return m
}

func unionKeys[V any](a, b map[string]V) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// isSource reports whether a table holds values that feed the scrub dictionary.
func (p *plan) isSource() bool {
	for _, s := range p.sources {
		if s >= 0 {
			return true
		}
	}
	return false
}

func (e *engine) scrubs() bool {
	for _, p := range e.plans {
		if p.scrubs {
			return true
		}
	}
	return false
}

// groups splits the tables into the groups in-place mode rewrites one transaction each, in
// the order it rewrites them; see the package comment. Without scrub they are the groups that
// transformed foreign keys tie together. With scrub: first the groups that neither scrub nor
// feed the dictionary, then those that scrub and feed nothing, then one group made of every
// group that both scrubs and feeds the dictionary, and last those that only feed it.
func (e *engine) groups() [][]*database.Table {
	tie := func(t *database.Table, fk *database.ForeignKey) bool {
		for _, c := range fk.Columns {
			if r, _ := e.opts.Policy.Rule(t.Name, c); r.Transforms() {
				return true
			}
		}
		return false
	}
	gs := database.Groups(e.schema, tie)
	if !e.scrubs() {
		return gs
	}
	var plain, scrub, feed [][]*database.Table
	var both []*database.Table
	for _, g := range gs {
		scrubs, feeds := false, false
		for _, t := range g {
			scrubs = scrubs || e.plans[t.Name].scrubs
			feeds = feeds || e.plans[t.Name].isSource()
		}
		switch {
		case scrubs && feeds:
			both = append(both, g...)
		case scrubs:
			scrub = append(scrub, g)
		case feeds:
			feed = append(feed, g)
		default:
			plain = append(plain, g)
		}
	}
	out := append(plain, scrub...)
	if len(both) > 0 {
		database.SortTables(both)
		out = append(out, both)
	}
	return append(out, feed...)
}

// unsafeToScrub refuses to scrub the tables of todo when a table that feeds the dictionary
// is already rewritten: the dictionary would be read from its hashes, and the notes would
// keep the originals. The order of groups rules it out; this is the proof at run time.
func (e *engine) unsafeToScrub(done map[string]bool, todo []*database.Table) error {
	var scrubbers, fed []string
	for _, t := range todo {
		if !done[t.Name] && e.plans[t.Name].scrubs {
			scrubbers = append(scrubbers, t.Name)
		}
	}
	if len(scrubbers) == 0 {
		return nil
	}
	for _, t := range e.schema.Tables {
		if done[t.Name] && e.plans[t.Name].isSource() {
			fed = append(fed, t.Name)
		}
	}
	if len(fed) == 0 {
		return nil
	}
	return fmt.Errorf("cannot finish this run safely: %s, whose values the scrubbed text names, already hold(s) their de-identified values, and %s still scrub(s) their notes, so the scrub dictionary can no longer be read from the database: start again from a fresh copy of the original database", strings.Join(fed, ", "), strings.Join(scrubbers, ", "))
}

// rewrite is in-place mode for server databases: group by group, each in one transaction.
func (e *engine) rewrite(ctx context.Context) error {
	rw, ok := e.src.(database.Rewriter)
	if !ok {
		return fmt.Errorf("%s databases cannot be rewritten in place", e.src.Kind())
	}
	ledger, err := rw.Ledger(ctx)
	if err != nil {
		return err
	}
	done, err := e.fromLedger(ledger)
	if err != nil {
		return err
	}
	groups := e.groups()
	var left []*database.Table
	for _, g := range groups {
		for _, t := range g {
			if e.plans[t.Name].active && !done[t.Name] {
				left = append(left, t)
			}
		}
	}
	if err := e.unsafeToScrub(done, left); err != nil {
		return err
	}
	for _, t := range left {
		if e.plans[t.Name].scrubs {
			e.startDictionary(ctx)
			if err := e.dictionary(); err != nil {
				return err
			}
			break
		}
	}
	skip := func(ts []*database.Table) {
		for _, t := range ts {
			tr := e.plans[t.Name].tableReport()
			tr.Skipped = true
			e.addReport(tr)
		}
	}
	for _, group := range groups {
		var todo, finished []*database.Table
		for _, t := range group {
			switch {
			case !e.plans[t.Name].active:
			case done[t.Name]:
				finished = append(finished, t)
			default:
				todo = append(todo, t)
			}
		}
		skip(finished)
		if len(todo) == 0 {
			continue
		}
		if len(finished) > 0 {
			return partlyDone(finished, todo)
		}
		var reports []*TableReport
		database.Checkpointf("group %s: begin", todo[0].Name)
		skipped, err := rw.Rewrite(ctx, &database.RewriteGroup{
			Run:    e.run,
			Tables: todo,
			Check: func(ledger []database.Progress) (bool, error) {
				done, err := e.fromLedger(ledger)
				if err != nil {
					return false, err
				}
				var finished []*database.Table
				for _, t := range todo {
					if done[t.Name] {
						finished = append(finished, t)
					}
				}
				switch len(finished) {
				case len(todo): // another process of this same run did it meanwhile
					return true, nil
				case 0:
					return false, e.unsafeToScrub(done, todo)
				}
				return false, partlyDone(finished, todo)
			},
			Fill: func(ctx context.Context, t *database.Table, w database.RowWriter) error {
				tr, err := e.stream(ctx, t, w)
				if err == nil {
					reports = append(reports, tr)
				}
				return err
			},
		})
		if err != nil {
			return err
		}
		if skipped {
			skip(todo)
			continue
		}
		database.Checkpointf("group %s: committed", todo[0].Name)
		for _, tr := range reports {
			e.addReport(tr)
		}
	}
	// What the rewrites left of the originals in the database's own files, once every group
	// is done (again on each run, until the ledger says it is cleared).
	recorded := len(done) > 0
	for _, tr := range e.report.Tables {
		recorded = recorded || !tr.Skipped
	}
	if !recorded {
		return nil
	}
	start := time.Now()
	warnings, err := rw.ClearResidue(ctx, e.run.ID)
	e.report.Clearing = time.Since(start)
	e.report.Warnings = append(e.report.Warnings, warnings...)
	return err
}

func partlyDone(finished, todo []*database.Table) error {
	name := func(ts []*database.Table) string {
		var s []string
		for _, t := range ts {
			s = append(s, t.Name)
		}
		return strings.Join(s, ", ")
	}
	return fmt.Errorf("cannot finish this run: the ledger records %s as rewritten but not %s, which must be rewritten with them (their foreign keys tie them, or their notes name each other's values); was the schema changed since the run began? Start again from a fresh copy of the original database", name(finished), name(todo))
}

// rewriteFile is in-place mode for SQLite: a copy beside the file, with the run recorded in
// its ledger, renamed over it.
func (e *engine) rewriteFile(ctx context.Context) error {
	dsn, _ := database.ParseDSN(e.opts.Source)
	path := dsn.Path
	lg, ok := e.src.(interface {
		Ledger(ctx context.Context) ([]database.Progress, error)
	})
	if !ok {
		return fmt.Errorf("%s databases cannot be rewritten in place", e.src.Kind())
	}
	ledger, err := lg.Ledger(ctx)
	if err != nil {
		return fmt.Errorf("read the ledger %s: %w", database.LedgerTable, err)
	}
	done, err := e.fromLedger(ledger)
	if err != nil {
		return err
	}
	var active []*database.Table
	for _, t := range e.schema.Tables {
		if e.plans[t.Name].active {
			active = append(active, t)
		}
	}
	finished := true
	for _, t := range active {
		finished = finished && done[t.Name]
	}
	if finished && len(done) > 0 || len(active) == 0 {
		for _, t := range active {
			tr := e.plans[t.Name].tableReport()
			tr.Skipped = true
			e.addReport(tr)
		}
		return nil
	}
	e.startDictionary(ctx)
	tmp := beside(path)
	os.Remove(tmp) // what an interrupted run left
	err = e.copyInto(ctx, "sqlite:"+tmp, func(dst database.Target) error {
		m, ok := dst.(interface {
			MarkDone(ctx context.Context, done []database.Progress) error
		})
		if !ok {
			return errors.New("the copy cannot record its run")
		}
		now := time.Now().UTC()
		var rows []database.Progress
		for _, t := range active {
			rows = append(rows, database.Progress{Run: e.run, Table: t.Name, Done: now})
		}
		return m.MarkDone(ctx, rows)
	})
	if err != nil {
		os.Remove(tmp)
		return err
	}
	database.Checkpoint("copy written")
	if err := syncFile(tmp); err != nil {
		return err
	}
	database.Checkpoint("copy synced")
	e.src.Close()
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	database.Checkpoint("copy renamed")
	return nil
}
