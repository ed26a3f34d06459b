package cohort

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// datedFacts are every fact of the scope as (start date, patient), by concept, sorted by date:
// read in one pass over the fact table at the first date-bounded query after a load (12
// bytes a fact), so that a panel of concepts bounded by start dates is a binary search per
// concept and no SQL. Other constraints (values, modifiers, end dates, counts above one)
// read their facts from the store.
type datedFacts struct {
	full  bool
	codes map[string]*dated
}

// dated is one concept's facts, sorted by start (seconds, wall clock read as UTC).
type dated struct {
	start   []int64
	patient []uint32
}

func (d *dated) Len() int           { return len(d.start) }
func (d *dated) Less(i, j int) bool { return d.start[i] < d.start[j] }
func (d *dated) Swap(i, j int) {
	d.start[i], d.start[j] = d.start[j], d.start[i]
	d.patient[i], d.patient[j] = d.patient[j], d.patient[i]
}

// seconds reads a stored time as seconds (a date alone is midnight).
func seconds(s string) (int64, bool) {
	if v, ok := fastSeconds(s); ok {
		return v, true
	}
	t, err := time.Parse(schema.TimeLayout, schema.StoredTime(s))
	if err != nil {
		return 0, false
	}
	return t.Unix(), true
}

// fastSeconds reads YYYY-MM-DD or YYYY-MM-DD HH:MM:SS without allocating (the fill reads a
// million of them); false for anything else, which seconds then parses the slow way.
func fastSeconds[S ~string | ~[]byte](s S) (int64, bool) {
	if len(s) != 10 && len(s) != 19 {
		return 0, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for k := i; k < i+n; k++ {
			c := s[k]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	m, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	var h, mi, sec int
	if len(s) == 19 {
		var ok4, ok5, ok6 bool
		h, ok4 = num(11, 2)
		mi, ok5 = num(14, 2)
		sec, ok6 = num(17, 2)
		if !ok4 || !ok5 || !ok6 || s[10] != ' ' || s[13] != ':' || s[16] != ':' || h > 23 || mi > 59 || sec > 59 {
			return 0, false
		}
	}
	// days from civil (Howard Hinnant)
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	return days*86400 + int64(h*3600+mi*60+sec), true
}

// datedOnly reports whether an item's set at level t is the patients with a fact of its
// concepts in start-date bounds: a plain item at the patient level, at least once, its
// bounds on the start date.
func (s *Scope) datedOnly(p *querydef.Panel, it *querydef.Item, t int) bool {
	if t != patientLevel || len(it.Values) > 0 || it.Modifier != nil || !defaultOccurs(p) {
		return false
	}
	for _, b := range bounds(p, it) {
		if b != nil && b.EndDate() {
			return false
		}
	}
	return true
}

func bounds(p *querydef.Panel, it *querydef.Item) []*querydef.Bound {
	out := []*querydef.Bound{p.DateFrom, p.DateTo}
	for _, r := range it.Dates {
		out = append(out, r.From, r.To)
	}
	return out
}

// window is the seconds a fact's start must be in for every bound of the panel and item:
// the latest lower bound and the earliest upper one (exclusive bounds a second inside,
// stored times having whole seconds).
func window(p *querydef.Panel, it *querydef.Item) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	for i, b := range bounds(p, it) {
		if b == nil {
			continue
		}
		v, ok := seconds(b.At)
		if !ok {
			continue
		}
		if i%2 == 0 { // a from bound
			if b.Exclusive {
				v++
			}
			lo = max(lo, v)
		} else {
			if b.Exclusive {
				v--
			}
			hi = min(hi, v)
		}
	}
	return lo, hi
}

// datedSet is the patients with a fact of the codes in the window of the panel and item.
func (s *Scope) datedSet(ctx context.Context, codes []string, p *querydef.Panel, it *querydef.Item) (*set, error) {
	dated, err := s.datedOf(ctx)
	if err != nil {
		return nil, err
	}
	lo, hi := window(p, it)
	out := roaring.New()
	if lo > hi {
		return &set{level: patientLevel, patients: out}, nil
	}
	var buf []uint32
	for _, c := range codes {
		d := dated.codes[c]
		if d == nil {
			continue
		}
		i := sort.Search(len(d.start), func(i int) bool { return d.start[i] >= lo })
		j := sort.Search(len(d.start), func(i int) bool { return d.start[i] > hi })
		buf = append(buf, d.patient[i:j]...)
	}
	out.AddMany(buf)
	return &set{level: patientLevel, patients: out}, nil
}

// datedRows are the (patient, start) rows of the codes' facts in the window, for temporal
// events whose dates are their facts' start dates.
func (s *Scope) datedRows(ctx context.Context, codes []string, p *querydef.Panel, it *querydef.Item) ([]eventRow, error) {
	dated, err := s.datedOf(ctx)
	if err != nil {
		return nil, err
	}
	lo, hi := window(p, it)
	var out []eventRow
	for _, c := range codes {
		d := dated.codes[c]
		if d == nil || lo > hi {
			continue
		}
		i := sort.Search(len(d.start), func(i int) bool { return d.start[i] >= lo })
		j := sort.Search(len(d.start), func(i int) bool { return d.start[i] > hi })
		for k := i; k < j; k++ {
			out = append(out, eventRow{patient: int64(d.patient[k]), start: time.Unix(d.start[k], 0).UTC().Format(schema.TimeLayout)})
		}
	}
	return out, nil
}

// datedOf reads every fact's concept, patient and start date once per scope.
func (s *Scope) datedOf(ctx context.Context) (datedFacts, error) {
	return s.dated.Get(func() (datedFacts, error) {
		var d datedFacts
		err := s.readDated(ctx, &d)
		return d, err
	})
}

func (s *Scope) readDated(ctx context.Context, dst *datedFacts) error {
	rows, err := s.db.QueryContext(ctx, `SELECT concept_cd, patient_num, start_date FROM observation_fact WHERE ($1 = '' OR agency = $1)`, s.agency)
	if err != nil {
		return fmt.Errorf("observation_fact: %w", err)
	}
	defer rows.Close()
	codes := map[string]*dated{}
	var c, start sql.RawBytes
	var n int64
	for rows.Next() {
		if err := rows.Scan(&c, &n, &start); err != nil {
			return fmt.Errorf("observation_fact: %w", err)
		}
		if n < 0 || n > math.MaxUint32 {
			return fmt.Errorf("observation_fact: patient_num out of range")
		}
		v, ok := fastSeconds(start)
		if !ok {
			if v, ok = seconds(string(start)); !ok {
				return fmt.Errorf("observation_fact: a start_date that is not a time")
			}
		}
		d := codes[string(c)]
		if d == nil {
			d = &dated{}
			codes[string(c)] = d
		}
		d.start = append(d.start, v)
		d.patient = append(d.patient, uint32(n))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("observation_fact: %w", err)
	}
	for _, d := range codes {
		if !sort.IsSorted(d) {
			sort.Sort(d)
		}
		d.start, d.patient = slices.Clip(d.start), slices.Clip(d.patient)
	}
	*dst = datedFacts{full: true, codes: codes}
	return nil
}
