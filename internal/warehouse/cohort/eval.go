package cohort

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// Resolver reads the definition of a stored query a masterid item names (the caller decides
// which stored queries the asker may name).
type Resolver func(ctx context.Context, id string) (querydef.Query, error)

// maxDepth bounds queries in queries in queries.
const maxDepth = 8

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", derrors.Invalid, fmt.Sprintf(format, args...))
}

// evaluation is one query being answered.
type evaluation struct {
	s       *Scope
	resolve Resolver
	depth   int
}

// Patients returns the patients of a normalized query. resolve reads the stored queries that
// masterid items name; without one such items are refused.
func (s *Scope) Patients(ctx context.Context, q querydef.Query, resolve Resolver) (*roaring.Bitmap, error) {
	e := &evaluation{s: s, resolve: resolve}
	return e.query(ctx, q)
}

func (e *evaluation) query(ctx context.Context, q querydef.Query) (*roaring.Bitmap, error) {
	if q.Temporal() {
		return e.temporal(ctx, q)
	}
	c, err := e.panels(ctx, q.Panels, levelOf(q.Timing), "")
	if err != nil {
		return nil, err
	}
	return c.toPatients(), nil
}

// panels is the set, at level g, of the members every panel holds for and no inverted panel
// does. Its members are those of the panels at level g when there are some, else every
// patient (patient_dimension) or visit (visit_dimension) of the scope.
func (e *evaluation) panels(ctx context.Context, ps []querydef.Panel, g int, prefix string) (*set, error) {
	var pos, neg []*set
	for i := range ps {
		p := &ps[i]
		if p.Everyone() {
			continue
		}
		s, err := e.panel(ctx, p, fmt.Sprintf("%spanel %d", prefix, i+1))
		if err != nil {
			return nil, err
		}
		if p.Invert {
			neg = append(neg, s)
		} else {
			pos = append(pos, s)
		}
	}
	var c *set
	for _, s := range pos {
		if s.level != g {
			continue
		}
		if c == nil {
			c = s.clone()
		} else {
			c.and(s)
		}
	}
	if c == nil {
		switch g {
		case patientLevel:
			all, err := e.s.All(ctx)
			if err != nil {
				return nil, err
			}
			c = &set{level: patientLevel, patients: all.Clone()}
		case visitLevel:
			var err error
			if c, err = e.s.allVisits(ctx); err != nil {
				return nil, err
			}
		default:
			return nil, refuse("%sa SAMEINSTANCENUM query needs a panel of SAMEINSTANCENUM timing that is not inverted", prefix)
		}
	}
	for _, s := range pos {
		if s.level != g {
			c.filter(s, true)
		}
	}
	for _, s := range neg {
		c.filter(s, false)
	}
	return c, nil
}

// plainItem reports whether an item is its concepts' patients: no dates, values or modifier.
func plainItem(it *querydef.Item) bool {
	return len(it.Dates) == 0 && len(it.Values) == 0 && it.Modifier == nil
}

func defaultOccurs(p *querydef.Panel) bool {
	return p.Occurs == querydef.Occurrence{Op: "GE", N: 1} || p.Occurs == querydef.Occurrence{Op: "GT", N: 0}
}

// panel is the union of the panel's items' sets, at the panel's level.
func (e *evaluation) panel(ctx context.Context, p *querydef.Panel, where string) (*set, error) {
	t := levelOf(p.Timing)
	out := newSet(t)
	for j := range p.Items {
		s, err := e.item(ctx, p, &p.Items[j], t, fmt.Sprintf("%s item %d", where, j+1))
		if err != nil {
			return nil, err
		}
		out.or(s)
	}
	return out, nil
}

// parts is what an item key names: concept codes (their facts) and ontology conditions on
// patients or visits.
type parts struct {
	codes []string
	conds []*dimCond
}

// resolveKey finds what an item key names: the ontology entry of that path, when it says how
// (demographics, visit details, or a concept path of its own); else the concepts at and
// under the path, and the ontology entries under it.
func (e *evaluation) resolveKey(ctx context.Context, key, at string) (parts, error) {
	onto, err := e.s.ontologyOf(ctx)
	ont := onto.rows
	if err != nil {
		return parts{}, err
	}
	add := func(ps *parts, r ontologyRow) error {
		if r.table == "concept_dimension" {
			if r.column != "concept_path" || r.factColumn != "concept_cd" || (r.operator != "LIKE" && r.operator != "=") {
				return refuse("%s: ontology entry %s: only concept_path LIKE or = is supported for concept_dimension", at, r.path)
			}
			path, ok := querydef.PathKey(trimPercent(unquote(r.dimcode)))
			if !ok {
				return refuse("%s: ontology entry %s has no c_dimcode", at, r.path)
			}
			codes, err := e.s.codes(ctx, path)
			if err != nil {
				return err
			}
			if r.operator == "=" {
				codes, err = e.s.exactCodes(ctx, path)
				if err != nil {
					return err
				}
			}
			ps.codes = append(ps.codes, codes...)
			return nil
		}
		c, err := condOf(r)
		if err != nil {
			return refuse("%s: %v", at, err)
		}
		ps.conds = append(ps.conds, c)
		return nil
	}
	var ps parts
	if r, ok := ont[key]; ok {
		return ps, add(&ps, r)
	}
	if ps.codes, err = e.s.codes(ctx, key); err != nil {
		return parts{}, err
	}
	// A folder without an entry of its own: every entry under it too (the loader's
	// demographics folders). Entries that find concepts already under the folder add nothing.
	paths := onto.paths
	for i := sort.SearchStrings(paths, key); i < len(paths) && strings.HasPrefix(paths[i], key); i++ {
		r := ont[paths[i]]
		if r.path == key {
			continue
		}
		if r.table == "concept_dimension" && strings.HasPrefix(trimPercent(unquote(r.dimcode)), key) {
			continue
		}
		if err := add(&ps, r); err != nil {
			return parts{}, err
		}
	}
	return ps, nil
}

// exactCodes is the codes of concept rows at exactly this path.
func (s *Scope) exactCodes(ctx context.Context, path string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT concept_cd FROM concept_dimension WHERE concept_path = $1 AND concept_cd <> ''
		AND (agency = '' OR $2 = '' OR agency = $2)`, path, s.agency)
	if err != nil {
		return nil, fmt.Errorf("concept_dimension: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// item is the item's set at level t.
func (e *evaluation) item(ctx context.Context, p *querydef.Panel, it *querydef.Item, t int, at string) (*set, error) {
	if id := it.Master(); id != "" {
		return e.master(ctx, p, it, id, t, at)
	}
	ps, err := e.resolveKey(ctx, it.Key, at)
	if err != nil {
		return nil, err
	}
	if len(ps.codes) == 0 && len(ps.conds) == 0 {
		return nil, refuse("%s: no concept at %s", at, it.Key)
	}
	out := newSet(t)
	if len(ps.conds) > 0 {
		switch {
		case !plainItem(it):
			return nil, refuse("%s: %s names patients or visits (through the ontology): date, value and modifier constraints on it are not supported", at, it.Key)
		case !defaultOccurs(p):
			return nil, refuse("%s: %s names patients or visits (through the ontology): total_item_occurrences on it is not supported", at, it.Key)
		case t == instanceLevel:
			return nil, refuse("%s: %s names patients or visits (through the ontology): SAMEINSTANCENUM timing on it is not supported", at, it.Key)
		}
		for _, c := range ps.conds {
			s, err := e.s.dimSet(ctx, c, p, t)
			if err != nil {
				return nil, err
			}
			out.or(s)
		}
	}
	if len(ps.codes) > 0 {
		s, err := e.s.factSet(ctx, ps.codes, p, it, t, at)
		if err != nil {
			return nil, err
		}
		out.or(s)
	}
	return out, nil
}

// master is the patients of the stored query a masterid item names.
func (e *evaluation) master(ctx context.Context, p *querydef.Panel, it *querydef.Item, id string, t int, at string) (*set, error) {
	switch {
	case e.resolve == nil:
		return nil, refuse("%s: masterid items are not supported here", at)
	case e.depth >= maxDepth:
		return nil, refuse("%s: queries nested more than %d deep", at, maxDepth)
	case t != patientLevel:
		return nil, refuse("%s: masterid in a panel of %s timing is not supported (only ANY)", at, p.Timing)
	case len(it.Dates) > 0 || p.DateFrom != nil || p.DateTo != nil:
		return nil, refuse("%s: date constraints on a masterid item are not supported", at)
	case !defaultOccurs(p):
		return nil, refuse("%s: total_item_occurrences on a masterid item is not supported", at)
	}
	q, err := e.resolve(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	if err := q.Normalize(); err != nil {
		return nil, fmt.Errorf("%s: stored query %s: %w", at, id, err)
	}
	sub := &evaluation{s: e.s, resolve: e.resolve, depth: e.depth + 1}
	b, err := sub.query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("%s: stored query %s: %w", at, id, err)
	}
	return &set{level: patientLevel, patients: b.Clone()}, nil
}

// dimSet is the set, at level t, of an ontology condition: its patients (or their visits),
// or its visits (or their patients); the panel's date bounds are on the visits' dates.
func (s *Scope) dimSet(ctx context.Context, c *dimCond, p *querydef.Panel, t int) (*set, error) {
	dated := p.DateFrom != nil || p.DateTo != nil
	var people *roaring.Bitmap
	if c.table == "patient_dimension" {
		var err error
		if people, err = s.patientsWhere(ctx, c); err != nil {
			return nil, err
		}
		if t == patientLevel && !dated {
			return &set{level: patientLevel, patients: people}, nil
		}
	}
	vs, err := s.visitsOf(ctx)
	if err != nil {
		return nil, err
	}
	out := newSet(t)
	for i := range vs {
		v := &vs[i]
		if people != nil && !people.Contains(uint32(v.patient)) {
			continue
		}
		if people == nil {
			val, known := v.col(c.column)
			if !c.holds(val, known) {
				continue
			}
		}
		if dated && !inBounds(&fact{start: v.start, end: v.end}, p.DateFrom, p.DateTo) {
			continue
		}
		if t == patientLevel {
			out.patients.Add(uint32(v.patient))
		} else {
			out.visits.Add(visitKey(v.patient, v.enc))
		}
	}
	return out, nil
}

// factSet is the set, at level t, of the patients (visits, instances) whose facts of the
// codes are the item's facts in the numbers the panel's occurrences ask, counted for the item
// alone, one per observation instance.
func (s *Scope) factSet(ctx context.Context, codes []string, p *querydef.Panel, it *querydef.Item, t int, at string) (*set, error) {
	if t == patientLevel && plainItem(it) && defaultOccurs(p) && p.DateFrom == nil && p.DateTo == nil {
		bs := make([]*roaring.Bitmap, 0, len(codes))
		for _, c := range codes {
			b, err := s.conceptPatients(ctx, c)
			if err != nil {
				return nil, err
			}
			bs = append(bs, b)
		}
		return &set{level: patientLevel, patients: roaring.FastOr(bs...)}, nil
	}
	var mods map[string]bool
	if m := it.Modifier; m != nil {
		mc, err := s.modifierCodes(ctx, m.Key)
		if err != nil {
			return nil, err
		}
		if len(mc) == 0 {
			return nil, refuse("%s: no modifier at %s", at, m.Key)
		}
		mods = map[string]bool{}
		for _, c := range mc {
			mods[c] = true
		}
	}
	if s.datedOnly(p, it, t) {
		return s.datedSet(ctx, codes, p, it)
	}
	counts := map[any]int{}
	seen := map[inst]struct{}{}
	err := s.eachFact(ctx, codes, p, it, mods, func(f *fact) {
		if !itemHolds(it, mods, p, f) {
			return
		}
		k := f.instance()
		if _, dup := seen[k]; dup {
			return
		}
		seen[k] = struct{}{}
		switch t {
		case patientLevel:
			counts[f.patient]++
		case visitLevel:
			counts[visitKey(f.patient, f.enc)]++
		default:
			counts[k]++
		}
	})
	if err != nil {
		return nil, err
	}
	out := newSet(t)
	for k, n := range counts {
		if !compareCount(p.Occurs.Op, n, p.Occurs.N) {
			continue
		}
		switch t {
		case patientLevel:
			out.patients.Add(uint32(k.(int64)))
		case visitLevel:
			out.visits.Add(k.(uint64))
		default:
			out.instances[k.(inst)] = struct{}{}
		}
	}
	return out, nil
}

// eachFact reads the facts of the codes (of the item's modifiers, when it has some; the
// concept's own when it has values) that may be the item's, narrowed in SQL by start-date
// bounds; the caller applies the item's meaning to each.
func (s *Scope) eachFact(ctx context.Context, codes []string, p *querydef.Panel, it *querydef.Item, mods map[string]bool, each func(f *fact)) error {
	const chunk = 5000
	for i := 0; i < len(codes); i += chunk {
		part := codes[i:min(i+chunk, len(codes))]
		args := []any{s.agency}
		q := `SELECT patient_num, encounter_num, concept_cd, provider_id, start_date, COALESCE(end_date, ''), instance_num, modifier_cd,
			valtype_cd, tval_char, nval_num, valueflag_cd FROM observation_fact WHERE ($1 = '' OR agency = $1) AND concept_cd IN (` + placeholders(&args, part) + `)`
		if mods != nil {
			var ms []string
			for m := range mods {
				ms = append(ms, m)
			}
			q += ` AND modifier_cd IN (` + placeholders(&args, ms) + `)`
		} else if len(it.Values) > 0 {
			q += ` AND modifier_cd = '@'`
		}
		var bounds []*querydef.Bound
		for _, r := range it.Dates {
			bounds = append(bounds, r.From, r.To)
		}
		bounds = append(bounds, p.DateFrom, p.DateTo)
		for j, b := range bounds {
			if b == nil || b.EndDate() {
				continue
			}
			args = append(args, b.At)
			if j%2 == 0 {
				q += fmt.Sprintf(` AND start_date >= $%d`, len(args))
			} else {
				q += fmt.Sprintf(` AND start_date <= $%d`, len(args))
			}
		}
		if err := s.scanFacts(ctx, q, args, each); err != nil {
			return err
		}
	}
	return nil
}

// scanFacts runs a query of fact rows (the columns eachFact selects) and hands each over.
func (s *Scope) scanFacts(ctx context.Context, q string, args []any, each func(f *fact)) error {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("observation_fact: %w", err)
	}
	defer rows.Close()
	var f fact
	var nval sql.NullFloat64
	for rows.Next() {
		if err := rows.Scan(&f.patient, &f.enc, &f.concept, &f.prov, &f.start, &f.end, &f.num, &f.modifier, &f.valtype, &f.tval, &nval, &f.flag); err != nil {
			return fmt.Errorf("observation_fact: %w", err)
		}
		if err := checkNums(f.patient, f.enc); err != nil {
			return fmt.Errorf("observation_fact: %w", err)
		}
		f.nval, f.hasNval = nval.Float64, nval.Valid
		f.start, f.end = schema.StoredTime(f.start), schema.StoredTime(f.end)
		each(&f)
	}
	return rows.Err()
}
