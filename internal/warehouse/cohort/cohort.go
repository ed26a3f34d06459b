// Package cohort finds the patients of a query definition (package querydef) in the
// warehouse tables of a store, and counts a cohort's breakdowns. Plain panels (a union of
// concepts, no dates, values, modifiers or counts) are answered from per-concept patient
// bitmaps (roaring), read for every concept of a scope in one pass over the fact table at the
// first query after a load and kept in memory; other panels go to SQL. Everything cached
// belongs to one load generation (warehouse_loads) and is dropped when a load happened since.
//
// An Evaluator is not safe for concurrent use: its caller serialises (the warehouse holds one
// lock around an answer).
package cohort

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// Evaluator answers query definitions over a store's warehouse, caching per scope and load.
type Evaluator struct {
	DB    *store.DB
	gen   int64             // warehouse_loads seq the caches belong to
	cache map[string]*Scope // agency scope → cached bitmaps and demographics
}

// New returns an evaluator over the store's warehouse tables.
func New(db *store.DB) *Evaluator { return &Evaluator{DB: db} }

// Generation is the load sequence number the caches belong to, as of the last Scope.
func (e *Evaluator) Generation() int64 { return e.gen }

// generation returns the current load sequence number.
func generation(ctx context.Context, db *store.DB) (int64, error) {
	var g int64
	st, err := db.Prepared(ctx, `SELECT COALESCE(MAX(seq), 0) FROM warehouse_loads`)
	if err == nil {
		err = st.QueryRowContext(ctx).Scan(&g)
	}
	return g, err
}

// Scope is what a server keeps in memory of one agency's part of the warehouse: the
// patients of each concept (filled as queries ask for them), the concept codes under each
// path, every patient, and the demographics the breakdowns count.
type Scope struct {
	db        *store.DB
	agency    string
	concepts  map[string]*roaring.Bitmap
	full      bool // concepts holds every concept of the scope
	paths     map[string][]string
	modifiers map[string][]string // modifier path → modifier codes at and under it
	all       *roaring.Bitmap
	cells     map[string]map[string]*roaring.Bitmap // breakdown dimension → cell → its patients
}

// Scope returns the cached data of the agency ("" is every agency), dropping every cache when
// a load happened since it was filled.
func (e *Evaluator) Scope(ctx context.Context, agency string) (*Scope, error) {
	g, err := generation(ctx, e.DB)
	if err != nil {
		return nil, err
	}
	if g != e.gen || e.cache == nil {
		e.cache, e.gen = map[string]*Scope{}, g
	}
	s := e.cache[agency]
	if s == nil {
		s = &Scope{db: e.DB, agency: agency, concepts: map[string]*roaring.Bitmap{}, paths: map[string][]string{}}
		e.cache[agency] = s
	}
	return s, nil
}

// codes returns the concept codes at and under an item's path.
func (s *Scope) codes(ctx context.Context, key string) ([]string, error) {
	return s.under(ctx, &s.paths, "concept_dimension", "concept_cd", "concept_path", key, s.agency)
}

// modifierCodes returns the modifier codes at and under a modifier path.
func (s *Scope) modifierCodes(ctx context.Context, key string) ([]string, error) {
	return s.under(ctx, &s.modifiers, "modifier_dimension", "modifier_cd", "modifier_path", key, s.agency)
}

// under reads (once per scope, then from cache) the codes of a dimension table at and under
// a path, in the agency's scope. Table and column names are the callers' constants.
func (s *Scope) under(ctx context.Context, cache *map[string][]string, table, code, path, key, agency string) ([]string, error) {
	if c, ok := (*cache)[key]; ok {
		return c, nil
	}
	out, err := store.Strings(ctx, s.db, `SELECT DISTINCT `+code+` FROM `+table+` WHERE substr(`+path+`, 1, $1) = $2 AND (agency = '' OR $3 = '' OR agency = $3) ORDER BY `+code,
		len(key), key, agency)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	if *cache == nil {
		*cache = map[string][]string{}
	}
	(*cache)[key] = out
	return out, nil
}

// conceptPatients is the bitmap of patients with a fact of the concept. The first call in a
// scope reads every concept's patients in one pass over the fact table (one scan instead of
// a query per concept; afterwards every plain panel is answered from memory).
func (s *Scope) conceptPatients(ctx context.Context, code string) (*roaring.Bitmap, error) {
	if !s.full {
		rows, err := s.db.QueryContext(ctx, `SELECT concept_cd, patient_num FROM observation_fact WHERE ($1 = '' OR agency = $1) AND modifier_cd = '@'`, s.agency)
		if err != nil {
			return nil, fmt.Errorf("observation_fact: %w", err)
		}
		defer rows.Close()
		lists := map[string][]uint32{}
		for rows.Next() {
			var c string
			var n int64
			if err := rows.Scan(&c, &n); err != nil {
				return nil, err
			}
			if n < 0 || n > math.MaxUint32 {
				return nil, fmt.Errorf("observation_fact: patient_num out of range")
			}
			lists[c] = append(lists[c], uint32(n))
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("observation_fact: %w", err)
		}
		for c, l := range lists {
			b := roaring.BitmapOf(l...)
			b.RunOptimize()
			s.concepts[c] = b
		}
		s.full = true
	}
	if b, ok := s.concepts[code]; ok {
		return b, nil
	}
	return roaring.New(), nil
}

// Collect reads one column of numbers (patient numbers) into a bitmap.
func Collect(ctx context.Context, db *store.DB, q string, args ...any) (*roaring.Bitmap, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	b := roaring.New()
	var buf []uint32
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if n < 0 || n > math.MaxUint32 {
			return nil, fmt.Errorf("patient_num out of range")
		}
		buf = append(buf, uint32(n))
	}
	b.AddMany(buf)
	return b, rows.Err()
}

// All is every patient of the scope.
func (s *Scope) All(ctx context.Context) (*roaring.Bitmap, error) {
	if s.all == nil {
		b, err := Collect(ctx, s.db, `SELECT patient_num FROM patient_dimension WHERE $1 = '' OR agency = $1`, s.agency)
		if err != nil {
			return nil, fmt.Errorf("patient_dimension: %w", err)
		}
		s.all = b
	}
	return s.all, nil
}

// plain reports whether a panel is a union of concepts: no dates, values or counts.
func plain(p querydef.Panel) bool {
	if p.DateFrom != "" || p.DateTo != "" || p.Occurs != (querydef.Occurrence{Op: "GE", N: 1}) && p.Occurs != (querydef.Occurrence{Op: "GT", N: 0}) {
		return false
	}
	for _, it := range p.Items {
		if it.Value != nil || it.Modifier != nil {
			return false
		}
	}
	return true
}

// Patients returns the patients of a normalized query.
func (s *Scope) Patients(ctx context.Context, q querydef.Query) (*roaring.Bitmap, error) {
	visit := q.Timing == "SAMEVISIT"
	var in, out []*roaring.Bitmap
	owner := map[uint32]uint32{} // encounter → patient, for SAMEVISIT
	for i, p := range q.Panels {
		var b *roaring.Bitmap
		var err error
		if !visit && plain(p) {
			b, err = s.unionPanel(ctx, i, p)
		} else {
			b, err = s.sqlPanel(ctx, i, p, visit, owner)
		}
		if err != nil {
			return nil, err
		}
		if p.Invert {
			out = append(out, b)
		} else {
			in = append(in, b)
		}
	}
	var res *roaring.Bitmap
	switch {
	case len(in) > 0:
		res = roaring.FastAnd(in...)
		if len(in) == 1 {
			res = in[0].Clone()
		}
	case visit:
		return nil, fmt.Errorf("%w: a SAMEVISIT query needs a panel that is not inverted", derrors.Invalid)
	default:
		all, err := s.All(ctx)
		if err != nil {
			return nil, err
		}
		res = all.Clone()
	}
	if len(out) > 0 {
		res.AndNot(roaring.FastOr(out...))
	}
	if !visit {
		return res, nil
	}
	patients := roaring.New()
	it := res.Iterator()
	for it.HasNext() {
		patients.Add(owner[it.Next()])
	}
	return patients, nil
}

func (s *Scope) unionPanel(ctx context.Context, i int, p querydef.Panel) (*roaring.Bitmap, error) {
	var bs []*roaring.Bitmap
	for j, it := range p.Items {
		codes, err := s.itemCodes(ctx, i, j, it)
		if err != nil {
			return nil, err
		}
		for _, c := range codes {
			b, err := s.conceptPatients(ctx, c)
			if err != nil {
				return nil, err
			}
			bs = append(bs, b)
		}
	}
	return roaring.FastOr(bs...), nil
}

func (s *Scope) itemCodes(ctx context.Context, i, j int, it querydef.Item) ([]string, error) {
	codes, err := s.codes(ctx, it.Key)
	if err == nil && len(codes) == 0 {
		err = fmt.Errorf("%w: panel %d item %d: no concept at %s", derrors.Invalid, i+1, j+1, it.Key)
	}
	return codes, err
}

// sqlPanel asks the store for the patients (or, for SAMEVISIT, the visits) of a panel.
func (s *Scope) sqlPanel(ctx context.Context, i int, p querydef.Panel, visit bool, owner map[uint32]uint32) (*roaring.Bitmap, error) {
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	var items []string
	for j, it := range p.Items {
		codes, err := s.itemCodes(ctx, i, j, it)
		if err != nil {
			return nil, err
		}
		ph := make([]string, len(codes))
		for k, c := range codes {
			ph[k] = arg(c)
		}
		cond := "concept_cd IN (" + strings.Join(ph, ", ") + ")"
		v := it.Value
		if m := it.Modifier; m != nil {
			mods, err := s.modifierCodes(ctx, m.Key)
			if err != nil {
				return nil, err
			}
			if len(mods) == 0 {
				return nil, fmt.Errorf("%w: panel %d item %d: no modifier at %s", derrors.Invalid, i+1, j+1, m.Key)
			}
			ph := make([]string, len(mods))
			for k, c := range mods {
				ph[k] = arg(c)
			}
			cond += " AND modifier_cd IN (" + strings.Join(ph, ", ") + ")"
			v = m.Value
		} else {
			cond += " AND modifier_cd = '@'"
		}
		if v != nil {
			cond += " AND " + valueCondition(v, arg)
		}
		items = append(items, "("+cond+")")
	}
	a := arg(s.agency)
	where := "(" + a + " = '' OR agency = " + a + ") AND (" + strings.Join(items, " OR ") + ")"
	if p.DateFrom != "" {
		where += " AND start_date >= " + arg(p.DateFrom)
	}
	if p.DateTo != "" {
		where += " AND start_date <= " + arg(p.DateTo)
	}
	cols := "patient_num"
	if visit {
		cols = "patient_num, encounter_num"
	}
	q := "SELECT " + cols + " FROM observation_fact WHERE " + where + " GROUP BY " + cols + " HAVING COUNT(*) " + ops[p.Occurs.Op] + " " + arg(p.Occurs.N)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("observation_fact: %w", err)
	}
	defer rows.Close()
	b := roaring.New()
	for rows.Next() {
		var pn, en int64
		dst := []any{&pn}
		if visit {
			dst = append(dst, &en)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		if pn < 0 || pn > math.MaxUint32 || en < 0 || en > math.MaxUint32 {
			return nil, fmt.Errorf("observation_fact: patient_num or encounter_num out of range")
		}
		if visit {
			owner[uint32(en)] = uint32(pn)
			b.Add(uint32(en))
		} else {
			b.Add(uint32(pn))
		}
	}
	return b, rows.Err()
}

// valueCondition is the SQL condition of a normalized value constraint on a fact row.
func valueCondition(v *querydef.Value, arg func(any) string) string {
	switch v.Type {
	case "TEXT":
		return "valtype_cd = 'T' AND " + textCondition("tval_char", v, arg)
	case "FLAG":
		return textCondition("valueflag_cd", v, arg)
	}
	if v.Op == "BETWEEN" {
		return "nval_num BETWEEN " + arg(v.Number) + " AND " + arg(v.High)
	}
	return "nval_num " + ops[v.Op] + " " + arg(v.Number)
}

// textCondition compares a text column: EQ, NE (never the empty value), IN, and the LIKE
// forms, which ignore case and take the value literally (% and _ in it match themselves).
func textCondition(col string, v *querydef.Value, arg func(any) string) string {
	switch v.Op {
	case "EQ":
		return col + " = " + arg(v.Text)
	case "NE":
		return col + " <> " + arg(v.Text) + " AND " + col + " <> ''"
	case "IN":
		ph := make([]string, len(v.List))
		for i, x := range v.List {
			ph[i] = arg(x)
		}
		return col + " IN (" + strings.Join(ph, ", ") + ")"
	case "LIKE[EXACT]":
		return "lower(" + col + ") = lower(" + arg(v.Text) + ")"
	}
	lit := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(v.Text)
	switch v.Op {
	case "LIKE[BEGIN]":
		lit += "%"
	case "LIKE[END]":
		lit = "%" + lit
	default: // LIKE[CONTAINS]
		lit = "%" + lit + "%"
	}
	return "lower(" + col + ") LIKE lower(" + arg(lit) + ") ESCAPE '\\'"
}

// ageBands are i2b2's age breakdown bands.
// ops are the SQL forms of i2b2's comparison operators.
var ops = map[string]string{"EQ": "=", "NE": "<>", "GT": ">", "LT": "<", "GE": ">=", "LE": "<="}

var ageBands = []struct {
	name   string
	lo, hi int64
}{{"0-9", 0, 9}, {"10-17", 10, 17}, {"18-34", 18, 34}, {"35-44", 35, 44}, {"45-54", 45, 54}, {"55-64", 55, 64}, {"65-74", 65, 74}, {"75-84", 75, 84}, {"85+", 85, math.MaxInt64}}

// Breakdowns counts a cohort by sex, age band, race and vital status: the cohort's overlap
// with each cell's patients (a bitmap per cell, read once per scope), so the time grows with
// the number of cells, not of patients. Patients the cohort has and patient_dimension does
// not are counted as unknown.
func (s *Scope) Breakdowns(ctx context.Context, b *roaring.Bitmap) (map[string]map[string]int64, error) {
	if s.cells == nil {
		rows, err := s.db.QueryContext(ctx, `SELECT patient_num, sex_cd, COALESCE(age_in_years_num, -1), race_cd, vital_status_cd
			FROM patient_dimension WHERE $1 = '' OR agency = $1`, s.agency)
		if err != nil {
			return nil, fmt.Errorf("patient_dimension: %w", err)
		}
		defer rows.Close()
		lists := map[string]map[string][]uint32{"sex": {}, "age": {}, "race": {}, "vital_status": {}}
		for rows.Next() {
			var n, age int64
			var sex, race, vital string
			if err := rows.Scan(&n, &sex, &age, &race, &vital); err != nil {
				return nil, err
			}
			if n < 0 || n > math.MaxUint32 {
				return nil, fmt.Errorf("patient_dimension: patient_num out of range")
			}
			band := "unknown"
			for _, a := range ageBands {
				if age >= a.lo && age <= a.hi {
					band = a.name
				}
			}
			vital = map[string]string{"Y": "deceased", "N": "living"}[vital]
			for dim, cell := range map[string]string{"sex": cmpUnknown(sex), "age": band, "race": cmpUnknown(race), "vital_status": cmpUnknown(vital)} {
				lists[dim][cell] = append(lists[dim][cell], uint32(n))
			}
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		s.cells = map[string]map[string]*roaring.Bitmap{}
		for dim, cells := range lists {
			s.cells[dim] = map[string]*roaring.Bitmap{}
			for cell, l := range cells {
				s.cells[dim][cell] = roaring.BitmapOf(l...)
			}
		}
	}
	total := int64(b.GetCardinality())
	out := map[string]map[string]int64{}
	for dim, cells := range s.cells {
		out[dim] = map[string]int64{}
		known := int64(0)
		for cell, patients := range cells {
			if n := int64(b.AndCardinality(patients)); n > 0 {
				out[dim][cell] = n
				known += n
			}
		}
		if total > known {
			out[dim]["unknown"] += total - known
		}
	}
	for _, dim := range []string{"sex", "age", "race", "vital_status"} {
		if out[dim] == nil {
			out[dim] = map[string]int64{}
		}
	}
	return out, nil
}

// Cells lists each breakdown dimension's cells in the scope — every cell some patient of the
// agency is in, and "unknown" — sorted, so that an obfuscated breakdown can show every cell
// whatever the cohort holds. Call it after Breakdowns.
func (s *Scope) Cells() map[string][]string {
	out := map[string][]string{}
	for _, dim := range []string{"sex", "age", "race", "vital_status"} {
		cells := []string{"unknown"}
		for cell := range s.cells[dim] {
			if cell != "unknown" {
				cells = append(cells, cell)
			}
		}
		slices.Sort(cells)
		out[dim] = cells
	}
	return out
}

func cmpUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
