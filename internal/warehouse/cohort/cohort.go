// Package cohort finds the patients of a query definition (package querydef) in the
// warehouse tables of a store, as i2b2 1.7's query builder finds them, and counts a cohort's
// breakdowns.
//
// The model. Each panel is a set at its own timing's level — patients (ANY), visits
// (SAMEVISIT) or observation instances (SAMEINSTANCENUM) — the union of its items' sets; an
// item's set is the patients (visits, instances) whose facts of the item (its concepts, in
// its and the panel's date bounds, meeting its values or its modifier's) number as the
// panel's occurrences ask, counted for each item on its own. The query's panels meet at the
// query's level: a member of that level is in the answer when every panel holds for it
// (a coarser panel for the member's patient or visit), no inverted panel does, and the
// answer is the members' patients. Items may instead name patients or visits through the
// ontology table (demographics from patient_dimension, visit details from visit_dimension)
// or a stored query (masterid). Temporal queries (events and constraints) are in
// temporal.go.
//
// Everything is computed the same way on SQLite and PostgreSQL: SQL only reads rows (facts of
// the item's concepts, narrowed by date where a bound is on the start date), the meaning is
// applied here. Plain panels (a union of concepts, no dates, values, modifiers or counts)
// are answered from per-concept patient bitmaps (roaring), read for every concept of a
// scope in one pass over the fact table at the first query after a load; dated facts of a
// concept are kept sorted by date (datedFacts) so that date-bounded panels need no SQL
// either. Everything cached belongs to one load generation (warehouse_loads) and is dropped
// when a load happened since.
//
// Evaluators and Scopes are safe for concurrent use: what a Scope reads lazily is filled
// once (one reader fills, the others wait for it; a failed fill is tried again by the next),
// and never changed after; cached bitmaps are only read (callers clone before changing).
package cohort

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/store"
)

// Evaluator answers query definitions over a store's warehouse, caching per scope and load.
type Evaluator struct {
	DB *store.DB

	mu    sync.Mutex
	gen   int64             // warehouse_loads seq the caches belong to
	cache map[string]*Scope // agency scope → cached bitmaps and demographics
}

// New returns an evaluator over the store's warehouse tables.
func New(db *store.DB) *Evaluator { return &Evaluator{DB: db} }

// Generation is the load sequence number the caches belong to, as of the last Scope (use
// Scope.Generation for the one a scope belongs to).
func (e *Evaluator) Generation() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gen
}

// Lazy is a value filled once, on first use, for concurrent readers.
type Lazy[T any] struct {
	mu   sync.Mutex
	done atomic.Bool
	v    T
}

// Get returns the value, filling it first if no fill has succeeded yet; concurrent callers
// wait for one fill. A failed fill is not kept.
func (l *Lazy[T]) Get(fill func() (T, error)) (T, error) {
	if l.done.Load() {
		return l.v, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done.Load() {
		return l.v, nil
	}
	v, err := fill()
	if err != nil {
		var zero T
		return zero, err
	}
	l.v = v
	l.done.Store(true)
	return v, nil
}

// codeCache is codes by path, read once each.
type codeCache struct {
	mu sync.Mutex
	m  map[string]*Lazy[[]string]
}

func (c *codeCache) entry(key string) *Lazy[[]string] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*Lazy[[]string]{}
	}
	l := c.m[key]
	if l == nil {
		l = &Lazy[[]string]{}
		c.m[key] = l
	}
	return l
}

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
// patients of each concept, the codes under each path, every patient with the columns
// demographics and breakdowns read, the visits (read when asked for), the ontology entries,
// and dated facts of the concepts date-bounded panels asked for.
type Scope struct {
	db        *store.DB
	agency    string
	gen       int64
	concepts  Lazy[map[string]*roaring.Bitmap] // every concept of the scope
	paths     codeCache
	modifiers codeCache // modifier path → modifier codes at and under it
	all       Lazy[*roaring.Bitmap]
	people    Lazy[[]person]
	visits    Lazy[[]visitRow]
	ontology  Lazy[ontology]
	dated     Lazy[datedFacts]
	cellsMu   sync.Mutex
	cells     atomic.Pointer[cells]
}

// Generation is the load sequence number the scope's data belongs to.
func (s *Scope) Generation() int64 { return s.gen }

// Scope returns the cached data of the agency ("" is every agency), dropping every cache when
// a load happened since it was filled.
func (e *Evaluator) Scope(ctx context.Context, agency string) (*Scope, error) {
	g, err := generation(ctx, e.DB)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// A reader that read the generation before a load another reader has seen gets the newer
	// caches: the tables hold the newer load.
	if g > e.gen || e.cache == nil {
		e.cache, e.gen = map[string]*Scope{}, g
	}
	s := e.cache[agency]
	if s == nil {
		s = &Scope{db: e.DB, agency: agency, gen: e.gen}
		e.cache[agency] = s
	}
	return s, nil
}

// codes returns the concept codes at and under an item's path.
func (s *Scope) codes(ctx context.Context, key string) ([]string, error) {
	return s.under(ctx, &s.paths, "concept_dimension", "concept_cd", "concept_path", key)
}

// modifierCodes returns the modifier codes at and under a modifier path.
func (s *Scope) modifierCodes(ctx context.Context, key string) ([]string, error) {
	return s.under(ctx, &s.modifiers, "modifier_dimension", "modifier_cd", "modifier_path", key)
}

// under reads (once per scope, then from cache) the codes of a dimension table at and under
// a path, in the agency's scope; folder rows without a code add none. Table and column
// names are the callers' constants.
func (s *Scope) under(ctx context.Context, cache *codeCache, table, code, path, key string) ([]string, error) {
	return cache.entry(key).Get(func() ([]string, error) {
		out, err := store.Strings(ctx, s.db, `SELECT DISTINCT `+code+` FROM `+table+` WHERE substr(`+path+`, 1, $1) = $2 AND `+code+` <> ''
		AND (agency = '' OR $3 = '' OR agency = $3) ORDER BY `+code, len(key), key, s.agency)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		return out, nil
	})
}

// conceptPatients is the bitmap of patients with a fact of the concept (of any modifier, as
// i2b2 reads an item without constraints). The first call in a scope reads every concept's
// patients in one pass over the fact table. The bitmap is shared: never change it.
func (s *Scope) conceptPatients(ctx context.Context, code string) (*roaring.Bitmap, error) {
	concepts, err := s.concepts.Get(func() (map[string]*roaring.Bitmap, error) {
		rows, err := s.db.QueryContext(ctx, `SELECT concept_cd, patient_num FROM observation_fact WHERE ($1 = '' OR agency = $1)`, s.agency)
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
		out := make(map[string]*roaring.Bitmap, len(lists))
		for c, l := range lists {
			b := roaring.BitmapOf(l...)
			b.RunOptimize()
			out[c] = b
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	if b, ok := concepts[code]; ok {
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

// All is every patient of the scope. The bitmap is shared: never change it.
func (s *Scope) All(ctx context.Context) (*roaring.Bitmap, error) {
	return s.all.Get(func() (*roaring.Bitmap, error) {
		b, err := Collect(ctx, s.db, `SELECT patient_num FROM patient_dimension WHERE $1 = '' OR agency = $1`, s.agency)
		if err != nil {
			return nil, fmt.Errorf("patient_dimension: %w", err)
		}
		return b, nil
	})
}

// placeholders appends args and returns "$n, $m, …" for them.
func placeholders(args *[]any, vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		*args = append(*args, v)
		ph[i] = fmt.Sprintf("$%d", len(*args))
	}
	return strings.Join(ph, ", ")
}
