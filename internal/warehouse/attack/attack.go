// Package attack is the attack harness of the counts DATA_OBFSC users see (issue 17): the
// cleverest user's ways of taking the noise off an obfuscated count, run through the
// warehouse's own answers (Warehouse.Run: the lockout, the store and the audit included) on a
// fixed synthetic warehouse, with a fresh attacker for each attack and target cohort — what
// one user may ask about one group.
//
// The attacks, each stopping when the warehouse refuses (lockout, spent budget) or after
// Options.MaxAnswers answers:
//
//   - repeat: the same query again and again; the estimate is the mean of the answers.
//   - reword: the same cohort written in ways that normalize differently (a category folder
//     or its codes, panels every patient passes — both sexes, every race, a smoking status —
//     an occurrence count GT 0 for GE 1); the estimate is the mean.
//   - partition: X AND A and X AND NOT A for many concepts A (categories, sex, race) as well
//     as X itself; each pair's sum estimates |X|; the estimate weighs X and the pairs by
//     their variances.
//   - breakdown-sums: the sums of each breakdown dimension's cells as extra estimates of the
//     total.
//   - everything: one attacker using all of the above within what one user may ask, keeping
//     below the lockout where the lockout counts results of the same real count.
//   - existence: X against X AND NOT C for rare concepts C — whether any patient of X has C,
//     a yes/no fact the answers should not give away. Its figure is the share of right
//     decisions and the attacker's advantage (true-positive minus false-positive rate).
//
// The attacker knows the settings (Kerckhoffs): the noise mode, σ, and which answers share
// their noise. A figure is the fraction of target cohorts whose exact count the rounded best
// estimate recovers, and the estimate's spread (root-mean-square error). Rounding a Gaussian
// estimate of spread 2 hits the exact count 20 % of the time: the goal.
package attack

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// The attacks.
const (
	Repeat     = "repeat"
	Reword     = "reword"
	Partition  = "partition"
	Breakdown  = "breakdown-sums"
	Everything = "everything"
	Existence  = "existence"
)

// Attacks lists them in the order they are run and printed.
var Attacks = []string{Repeat, Reword, Partition, Breakdown, Everything, Existence}

// Seed is the synthetic warehouse's seed: the harness's warehouse is fixed.
const Seed = 17

// Options size a run.
type Options struct {
	Patients   int64 // patients in the synthetic warehouse (seed Seed)
	Cohorts    int   // target cohorts (ICD-10 categories, largest count first within the range)
	MaxAnswers int   // answers an attacker asks for at most per cohort when nothing refuses earlier
}

// Figure is what one attack achieved over the target cohorts in one noise mode.
type Figure struct {
	Mode      string  `json:"mode"`
	Attack    string  `json:"attack"`
	Cohorts   int     `json:"cohorts"`
	Recovered int     `json:"recovered"` // cohorts whose exact count the rounded estimate hit (existence: right decisions)
	Trials    int     `json:"trials"`    // cohorts estimated (existence: decisions made)
	Spread    float64 `json:"spread"`    // root-mean-square error of the estimate (existence: advantage)
	Answers   float64 `json:"answers"`   // answers obtained per cohort, on average
	Stopped   int     `json:"stopped"`   // attackers the warehouse refused before MaxAnswers
	Why       string  `json:"why,omitempty"`
	// Errors are, cohort by cohort, the estimate minus the true count (existence: the right
	// decisions): with keyed noise the same on every store.
	Errors []float64 `json:"errors,omitempty"`
}

// Rate is the fraction recovered (existence: of right decisions).
func (f Figure) Rate() float64 {
	if f.Trials == 0 {
		return 0
	}
	return float64(f.Recovered) / float64(f.Trials)
}

func (f Figure) String() string {
	if f.Attack == Existence {
		return fmt.Sprintf("%-10s %-15s %3d/%-3d right %5.1f %%  advantage %5.2f  answers %5.1f  stopped %d %s",
			f.Mode, f.Attack, f.Recovered, f.Trials, 100*f.Rate(), f.Spread, f.Answers, f.Stopped, f.Why)
	}
	return fmt.Sprintf("%-10s %-15s %3d/%-3d exact %5.1f %%  spread %6.2f  answers %5.1f  stopped %d %s",
		f.Mode, f.Attack, f.Recovered, f.Trials, 100*f.Rate(), f.Spread, f.Answers, f.Stopped, f.Why)
}

// target is a cohort attacked: an ICD-10 category folder, its exact count, its rewordings
// (checked to have the same exact count), its splitters and rare concepts.
type target struct {
	path   string
	count  int64
	words  []querydef.Query
	rare   []rareConcept
	splits []string
}

// rareConcept is a panel of few patients: a code within one month.
type rareConcept struct {
	panel querydef.Panel
	with  int64 // patients of the target with it
}

// rareConcepts finds, for a target, up to 15 codes-within-a-month that no patient of the
// target has and up to 15 that one or two have, alternating.
func (wd *World) rareConcepts(ctx context.Context, t target, codes []string) ([]rareConcept, error) {
	var none, some []rareConcept
	for i := 0; i < 4000 && (len(none) < 15 || len(some) < 15); i++ {
		code := codes[(i*37)%len(codes)]
		if strings.HasPrefix(code, t.path) {
			continue
		}
		month := time.Date(2015, time.Month(1+(i*7)%40), 1, 0, 0, 0, 0, time.UTC)
		p := panel(code)
		p.DateFrom, p.DateTo = &querydef.Bound{At: month.Format(time.DateOnly)}, &querydef.Bound{At: month.AddDate(0, 1, 0).Format(time.DateOnly), Exclusive: true}
		with, err := wd.exact(ctx, query(panel(t.path), p))
		if err != nil {
			return nil, err
		}
		switch {
		case with == 0 && len(none) < 15:
			none = append(none, rareConcept{p, 0})
		case (with == 1 || with == 2) && len(some) < 15:
			some = append(some, rareConcept{p, with})
		}
	}
	var out []rareConcept
	for i := range max(len(none), len(some)) {
		if i < len(none) {
			out = append(out, none[i])
		}
		if i < len(some) {
			out = append(out, some[i])
		}
	}
	return out, nil
}

// World is a store holding the fixed synthetic warehouse, a project and an exact-count user.
type World struct {
	DB      *store.DB
	W       *warehouse.Warehouse
	Access  *access.Service
	project string
	eval    *cohort.Evaluator
	targets []target
	users   int
}

var root = access.CLI("attack")

// Setup loads the synthetic warehouse (seed Seed, o.Patients patients) into an empty store
// and finds the target cohorts with exact counts.
func Setup(ctx context.Context, db *store.DB, keys *seal.Keys, o Options) (*World, error) {
	s := access.New(db, access.Config{}, nil)
	for _, err := range []error{
		s.CreateRegion(ctx, root, access.Region{Code: "west", Name: "West"}),
		s.CreateAgency(ctx, root, access.Agency{Code: "north", Name: "North clinic", Region: "west"}),
		s.CreateProject(ctx, root, access.Project{Code: "study", Name: "Feasibility", Agency: "north"}),
	} {
		if err != nil {
			return nil, err
		}
	}
	g := synthetic.Warehouse{Seed: Seed, Patients: o.Patients, Ontology: true}
	if _, err := load.Run(ctx, db, keys, g.Inputs(), load.Options{Agency: "north"}); err != nil {
		return nil, err
	}
	wd := &World{DB: db, W: warehouse.New(db, s, keys), Access: s, project: "study", eval: cohort.New(db)}
	return wd, wd.findTargets(ctx, o)
}

// exact is the true count of q, from the cohort evaluator (what DATA_AGG is told, without
// storing and auditing thousands of answers).
func (wd *World) exact(ctx context.Context, q querydef.Query) (int64, error) {
	if err := q.Normalize(); err != nil {
		return 0, err
	}
	s, err := wd.eval.Scope(ctx, "north")
	if err != nil {
		return 0, err
	}
	b, err := s.Patients(ctx, q, nil) // the harness's queries name no other query (masterid)
	if err != nil {
		return 0, err
	}
	return int64(b.GetCardinality()), nil
}

func item(path string) querydef.Item { return querydef.Item{Key: path} }

func panel(paths ...string) querydef.Panel {
	p := querydef.Panel{}
	for _, x := range paths {
		p.Items = append(p.Items, item(x))
	}
	return p
}

func query(ps ...querydef.Panel) querydef.Query { return querydef.Query{Panels: ps} }

func not(p querydef.Panel) querydef.Panel { p.Invert = true; return p }

func categoryPath(i int) string {
	leaf := synthetic.DiagnosisPath(i * 5)
	return leaf[:strings.LastIndex(strings.TrimSuffix(leaf, `\`), `\`)+1]
}

// findTargets picks the target cohorts (categories whose count is 10–30 % of the patients),
// the splitters (categories and demographics of 10–60 %), the rare concepts (the codes of fewest
// patients) and each target's rewordings, all checked with exact counts.
func (wd *World) findTargets(ctx context.Context, o Options) error {
	n := float64(o.Patients)
	type counted struct {
		path  string
		count int64
	}
	var cats, codes []counted
	for i := range 100 {
		c, err := wd.exact(ctx, query(panel(categoryPath(i))))
		if err != nil {
			return err
		}
		cats = append(cats, counted{categoryPath(i), c})
	}
	for i := range 500 {
		c, err := wd.exact(ctx, query(panel(synthetic.DiagnosisPath(i))))
		if err != nil {
			return err
		}
		codes = append(codes, counted{synthetic.DiagnosisPath(i), c})
	}
	var splitters []counted
	for _, c := range cats {
		if f := float64(c.count) / n; f >= 0.10 && f <= 0.60 {
			splitters = append(splitters, c)
		}
	}
	for _, p := range []string{`\i2b2\Demographics\Sex\M\`, `\i2b2\Demographics\Race\unknown\`, `\i2b2\Demographics\Race\white\`} {
		c, err := wd.exact(ctx, query(panel(p)))
		if err != nil {
			return err
		}
		splitters = append(splitters, counted{p, c})
	}
	// Closest to an even split first: the attacker wants both halves large.
	sort.SliceStable(splitters, func(i, j int) bool {
		return math.Abs(float64(splitters[i].count)/n-0.5) < math.Abs(float64(splitters[j].count)/n-0.5)
	})
	var candidates []counted
	for _, c := range cats {
		if f := float64(c.count) / n; f >= 0.10 && f <= 0.30 {
			candidates = append(candidates, c)
		}
	}
	sort.SliceStable(candidates, func(i, j int) bool { return candidates[i].count > candidates[j].count })
	if len(candidates) < o.Cohorts {
		return fmt.Errorf("attack: %d categories of 10–30 %% of the patients, want %d cohorts", len(candidates), o.Cohorts)
	}
	var rareCodes []string
	for _, c := range codes {
		if c.count > 0 {
			rareCodes = append(rareCodes, c.path)
		}
	}
	for _, c := range candidates[:o.Cohorts] {
		t := target{path: c.path, count: c.count}
		var err error
		for _, s := range splitters {
			if s.path != c.path {
				t.splits = append(t.splits, s.path)
			}
		}
		if t.rare, err = wd.rareConcepts(ctx, t, rareCodes); err != nil {
			return err
		}
		words, err := wd.rewordings(ctx, t, max(24, o.MaxAnswers))
		if err != nil {
			return err
		}
		t.words = words
		wd.targets = append(wd.targets, t)
	}
	return nil
}

// rewordings writes the target's cohort in up to max ways whose canonical forms differ, each
// checked to select the same number of patients.
func (wd *World) rewordings(ctx context.Context, t target, max int) ([]querydef.Query, error) {
	var leaves []string
	for i := range 500 {
		if p := synthetic.DiagnosisPath(i); strings.HasPrefix(p, t.path) {
			leaves = append(leaves, p)
		}
	}
	everyone := []querydef.Panel{
		panel(`\i2b2\Demographics\Sex\F\`, `\i2b2\Demographics\Sex\M\`),
		panel(`\i2b2\Observations\Smoking\`),
		panel(`\i2b2\Demographics\Race\`),
	}
	var items [][]string
	items = append(items, []string{t.path}, leaves)
	for mask := 1; mask < 1<<len(leaves); mask++ {
		v := []string{t.path}
		for i, l := range leaves {
			if mask&(1<<i) != 0 {
				v = append(v, l)
			}
		}
		items = append(items, v)
	}
	seen := map[string]bool{}
	var out []querydef.Query
	for _, it := range items {
		for mask := 0; mask < 1<<len(everyone); mask++ {
			for _, gt0 := range []bool{false, true} {
				q := query(panel(it...))
				if gt0 {
					q.Panels[0].Occurs = querydef.Occurrence{Op: "GT", N: 0}
				}
				for i, p := range everyone {
					if mask&(1<<i) != 0 {
						q.Panels = append(q.Panels, p)
					}
				}
				c := q
				c.Panels = slices.Clone(q.Panels)
				if err := c.Normalize(); err != nil {
					return nil, err
				}
				if seen[c.Canonical()] {
					continue
				}
				seen[c.Canonical()] = true
				n, err := wd.exact(ctx, q)
				if err != nil {
					return nil, err
				}
				if n != t.count {
					return nil, fmt.Errorf("attack: a rewording of %s counts %d, not %d", t.path, n, t.count)
				}
				if out = append(out, q); len(out) == max {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

// attacker is one user asking about one target.
type attacker struct {
	wd      *World
	p       access.Principal
	answers int
	max     int
	stopped error // why the warehouse stopped answering
}

// newAttacker makes a fresh DATA_OBFSC user.
func (wd *World) newAttacker(ctx context.Context, max int) (*attacker, error) {
	wd.users++
	name := "attacker" + strconv.Itoa(wd.users)
	if err := wd.Access.CreateUser(ctx, root, access.User{Name: name, Agency: "north"}, "correct horse battery"); err != nil {
		return nil, err
	}
	if err := wd.Access.Grant(ctx, root, name, wd.project, access.DataObfsc); err != nil {
		return nil, err
	}
	p, err := wd.Access.Principal(ctx, name, "attack")
	return &attacker{wd: wd, p: p, max: max}, err
}

// answer is an obfuscated count as the attacker reads it.
type answer struct {
	count  float64
	hidden bool // shown as below the threshold
	cells  map[string]map[string]int64
}

// ask runs q; ok is false once the warehouse refuses (the attacker stops) or max is reached.
func (a *attacker) ask(ctx context.Context, q querydef.Query, breakdowns bool) (answer, bool, error) {
	if a.stopped != nil || a.answers >= a.max {
		return answer{}, false, nil
	}
	var o warehouse.RunOptions
	if breakdowns {
		o.Breakdowns = []string{"all"}
	}
	r, err := a.wd.W.RunWith(ctx, a.p, a.wd.project, q, o)
	if k := derrors.Kind(err); k == derrors.Locked || k == derrors.TooMany {
		a.stopped = err
		return answer{}, false, nil
	}
	if err != nil {
		return answer{}, false, err
	}
	a.answers++
	out := answer{count: float64(r.Count), hidden: r.Count == 0}
	if breakdowns {
		out.cells = r.Breakdowns
	}
	return out, true, nil
}

// model is what the attacker knows of the noise: each answer's variance and which answers
// share their noise.
type model struct {
	mode       noise.Mode
	v, vb      float64 // variance of a total and of a breakdown cell (noise and rounding)
	lockSame   int     // results of the same real count that lock (0: the lockout does not count real counts)
	sharedText bool    // answers to the same canonical query share their noise (budget mode)
}

func (wd *World) model(ctx context.Context) (model, error) {
	s, err := wd.W.CurrentSettings(ctx)
	m := model{mode: s.Noise, v: s.Sigma*s.Sigma + 1.0/12, vb: s.BreakdownSigma*s.BreakdownSigma + 1.0/12}
	switch s.Noise {
	case noise.Budget:
		m.sharedText = true // and the lockout counts runs of the same query: rewordings never trip it
	case noise.I2B2:
		m.lockSame = s.LockoutCount
	}
	return m, err
}

// estimate is a weighted mean of independent estimates of one count.
type estimate struct{ sum, weight float64 }

func (e *estimate) add(x, variance float64) {
	e.sum += x / variance
	e.weight += 1 / variance
}

func (e estimate) ok() bool       { return e.weight > 0 }
func (e estimate) value() float64 { return e.sum / e.weight }

// xClass gathers answers that estimate |X| directly (repeats and rewordings): answers that
// share their noise are one estimate, so they are averaged within their class first.
type xClass map[string][]float64

func (c xClass) addTo(e *estimate, v float64) {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same sums in the same order on every run and store
	for _, k := range keys {
		xs := c[k]
		s := 0.0
		for _, x := range xs {
			s += x
		}
		e.add(s/float64(len(xs)), v)
	}
}

// classOf is the noise class of an answer to a wording of X (index i of n asked).
func (m model) classOf(q querydef.Query, i int) string {
	switch {
	case m.sharedText:
		c := q
		c.Panels = slices.Clone(q.Panels)
		c.Normalize()
		return c.Canonical()
	}
	return strconv.Itoa(i)
}

// Run runs every attack on the first o.Cohorts targets in the warehouse's current settings,
// each attack and target with a fresh attacker.
func (wd *World) Run(ctx context.Context, o Options) ([]Figure, error) {
	var out []Figure
	for _, name := range Attacks {
		f, err := wd.run(ctx, name, o)
		if err != nil {
			return nil, fmt.Errorf("attack %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func (wd *World) run(ctx context.Context, name string, o Options) (Figure, error) {
	m, err := wd.model(ctx)
	if err != nil {
		return Figure{}, err
	}
	targets := wd.targets[:min(max(o.Cohorts, 1), len(wd.targets))]
	f := Figure{Mode: string(m.mode), Attack: name, Cohorts: len(targets)}
	var sq float64
	var tp, fp, pos, neg int
	whys := map[string]int{}
	for _, t := range targets {
		a, err := wd.newAttacker(ctx, o.MaxAnswers)
		if err != nil {
			return f, err
		}
		var e estimate
		switch name {
		case Repeat:
			err = a.repeat(ctx, t, m, &e)
		case Reword:
			err = a.reword(ctx, t, m, &e)
		case Partition:
			err = a.partition(ctx, t, m, &e, true)
		case Breakdown:
			err = a.breakdowns(ctx, t, m, &e)
		case Everything:
			err = a.everything(ctx, t, m, &e)
		case Existence:
			var right, n int
			right, n, err = a.existence(ctx, t, m, &tp, &fp, &pos, &neg)
			f.Recovered += right
			f.Trials += n
			f.Errors = append(f.Errors, float64(right))
		}
		if err != nil {
			return f, err
		}
		f.Answers += float64(a.answers)
		if a.stopped != nil {
			f.Stopped++
			whys[derrors.Kind(a.stopped).Error()]++
		}
		if name == Existence || !e.ok() {
			continue
		}
		f.Trials++
		d := e.value() - float64(t.count)
		sq += d * d
		f.Errors = append(f.Errors, d)
		if math.Round(e.value()) == float64(t.count) {
			f.Recovered++
		}
	}
	f.Answers /= float64(len(targets))
	if name == Existence {
		if pos > 0 && neg > 0 {
			f.Spread = float64(tp)/float64(pos) - float64(fp)/float64(neg)
		}
	} else if f.Trials > 0 {
		f.Spread = math.Sqrt(sq / float64(f.Trials))
	}
	var ws []string
	for k, n := range whys {
		ws = append(ws, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(ws)
	if len(ws) > 0 {
		f.Why = "(" + strings.Join(ws, ", ") + ")"
	}
	return f, nil
}

func (a *attacker) repeat(ctx context.Context, t target, m model, e *estimate) error {
	c := xClass{}
	q := query(panel(t.path))
	for i := 0; ; i++ {
		r, ok, err := a.ask(ctx, q, false)
		if err != nil || !ok {
			break
		}
		if !r.hidden {
			k := m.classOf(q, i)
			c[k] = append(c[k], r.count)
		}
	}
	c.addTo(e, m.v)
	return nil
}

// reword asks X in its rewordings; cap limits them (0: all).
func (a *attacker) reword(ctx context.Context, t target, m model, e *estimate) error {
	c := xClass{}
	a.rewordInto(ctx, t, m, c, 0)
	c.addTo(e, m.v)
	return nil
}

func (a *attacker) rewordInto(ctx context.Context, t target, m model, c xClass, cap int) error {
	for i, q := range t.words {
		if cap > 0 && i >= cap {
			break
		}
		r, ok, err := a.ask(ctx, q, false)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if !r.hidden {
			k := m.classOf(q, i)
			c[k] = append(c[k], r.count)
		}
	}
	return nil
}

// partition asks X (when withX) and pairs X AND A, X AND NOT A.
func (a *attacker) partition(ctx context.Context, t target, m model, e *estimate, withX bool) error {
	if withX {
		r, ok, err := a.ask(ctx, query(panel(t.path)), false)
		if err != nil {
			return err
		}
		if ok && !r.hidden {
			e.add(r.count, m.v)
		}
	}
	for _, s := range t.splits {
		in, ok, err := a.ask(ctx, query(panel(t.path), panel(s)), false)
		if err != nil || !ok {
			return err
		}
		out, ok, err := a.ask(ctx, query(panel(t.path), not(panel(s))), false)
		if err != nil || !ok {
			return err
		}
		if !in.hidden && !out.hidden {
			e.add(in.count+out.count, 2*m.v)
		}
	}
	return nil
}

// breakdowns asks X with its breakdowns and adds each dimension's sum where no cell is hidden.
func (a *attacker) breakdowns(ctx context.Context, t target, m model, e *estimate) error {
	r, ok, err := a.ask(ctx, query(panel(t.path)), true)
	if err != nil || !ok || r.hidden {
		return err
	}
	e.add(r.count, m.v)
	addCells(e, r.cells, m)
	return nil
}

func addCells(e *estimate, cells map[string]map[string]int64, m model) {
	for _, name := range []string{"age", "race", "sex", "vital_status"} {
		dim, ok := cells[name]
		if !ok {
			continue
		}
		sum, hidden := 0.0, len(dim) == 0
		for _, n := range dim {
			sum += float64(n) // whole numbers: exact in any order
			hidden = hidden || n == 0
		}
		if !hidden {
			e.add(sum, float64(len(dim))*m.vb)
		}
	}
}

// everything: X with its breakdowns, rewordings (below the same-count lockout where the
// lockout counts real counts), then partition pairs, until the warehouse stops answering.
func (a *attacker) everything(ctx context.Context, t target, m model, e *estimate) error {
	r, ok, err := a.ask(ctx, query(panel(t.path)), true)
	if err != nil || !ok {
		return err
	}
	c := xClass{}
	if !r.hidden {
		c[m.classOf(query(panel(t.path)), -1)] = []float64{r.count}
		addCells(e, r.cells, m)
	}
	cap := 0
	if m.lockSame > 0 {
		cap = m.lockSame - 2 // X and these stay one below the lockout
	}
	if err := a.rewordInto(ctx, t, m, c, cap); err != nil {
		return err
	}
	c.addTo(e, m.v)
	return a.partition(ctx, t, m, e, false)
}

// existence decides, for rare concepts C, whether any patient of X has C, from X and
// X AND NOT C: whether X's answer is the larger by at least a half. (With noise keyed by the
// set of patients — Steward's "consistent" mode until issue 17 — the test was whether the two
// answers differ: equal sets gave equal answers, and 91 % of the decisions were right.)
func (a *attacker) existence(ctx context.Context, t target, m model, tp, fp, pos, neg *int) (right, n int, err error) {
	x, ok, err := a.ask(ctx, query(panel(t.path)), false)
	if err != nil || !ok {
		return 0, 0, err
	}
	for _, c := range t.rare {
		r, ok, err := a.ask(ctx, query(panel(t.path), not(c.panel)), false)
		if err != nil || !ok {
			return right, n, err
		}
		has := x.count-r.count >= 0.5
		truth := c.with > 0
		n++
		if has == truth {
			right++
		}
		if truth {
			*pos++
			if has {
				*tp++
			}
		} else {
			*neg++
			if has {
				*fp++
			}
		}
	}
	return right, n, nil
}
