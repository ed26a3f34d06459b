package disclosure

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Meta says what each column of an output file holds. Every column must have a role: a
// column the metadata does not name is refused, because nobody vouched for what it holds.
type Meta struct {
	Persons     string   `json:"persons"`               // the column counting persons
	Contributor string   `json:"contributor,omitempty"` // the project or agency each row's contribution comes from; never released
	Dimensions  []string `json:"dimensions"`            // the columns that name a cell
	// Overlapping are dimensions whose levels overlap (a person in several): their cells do
	// not sum to a total, so secondary suppression runs no line along them. Only Steward sets
	// it, for tables it computed, whose differences the ledger over people checks exactly.
	Overlapping []string `json:"overlapping,omitempty"`
	Sensitive   []string `json:"sensitive,omitempty"`  // dimensions whose zeros and 100 % cells disclose (a diagnosis, an outcome)
	Magnitudes  []string `json:"magnitudes,omitempty"` // summed amounts (costs, days): dominance and p % apply
	// Statistics says what each magnitude column holds: sum (the default), count, mean,
	// median, sd or quantile. min and max are refused: each is one person's value.
	Statistics map[string]string `json:"statistics,omitempty"`
	// StructuralZeros is the old, dimension-level declaration (a dimension whose zeros were
	// all structural). It is refused (Validate): a dimension names no cell, and it let every
	// zero of the table through, real small-group facts among them. Name the cells instead.
	StructuralZeros []string `json:"structural_zeros,omitempty"`
	// StructuralCells are cells (their dimension values, in Dimensions order) whose zero is
	// structural — impossible by construction (no hysterectomy among men): only these zero
	// cells are shown; every other zero cell is hidden. The analyst declares them, with a
	// reason given with the request, and a reviewer validates the declaration.
	StructuralCells [][]string `json:"structural_cells,omitempty"`
	Total           string     `json:"total,omitempty"` // the label of margin rows in a dimension, e.g. "Total"
	Population      string     `json:"population"`      // the data the table was built from, e.g. "dwh:diabetes-2025"; releases of one population are compared
}

// Table is an output file read into cells. A cell is every row sharing the same dimension
// values; each row is one contribution to it (of the project in the contributor column).
type Table struct {
	Name      string
	Meta      Meta
	Cells     []*Cell
	index     map[string]int
	rows      int
	rowsOfOne int // rows counting exactly one person
	repeats   int // rows repeating a cell (and contributor) already seen
	// magWhole[i] is whether every value of magnitude i is a whole number, magMax[i] the
	// largest absolute value: a "magnitude" of small whole numbers is a count of persons.
	magWhole []bool
	magMax   []float64
}

// Cell is one combination of dimension values with its totals and its contributions.
type Cell struct {
	Key        []string  // the dimension values, in Meta.Dimensions order
	Persons    int64     // persons in the cell
	Magnitudes []float64 // sums, in Meta.Magnitudes order
	// Contributions per contributor (or per row when there is no contributor column): the
	// magnitude of each, in Meta.Magnitudes order.
	// Values are, when Steward computed the table, the true value of each person behind the
	// cell's statistic: dominance (n,k) and p % are judged on them, in place of the
	// contributors' sums (never shown).
	Values      []float64
	contrib     map[string][]float64
	contributor map[string]bool // distinct contributors with at least one person
}

// Projects is how many distinct contributors (projects, agencies) the cell holds persons of.
func (c *Cell) Projects() int { return len(c.contributor) }

// Margin reports whether the cell is a margin (a dimension holds the total label).
func (c *Cell) Margin(total string) bool { return total != "" && slices.Contains(c.Key, total) }

func (t *Table) label(c *Cell) string { return cellLabel(t.Meta.Dimensions, c.Key) }

func cellLabel(dims, key []string) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d + "=" + key[i]
	}
	return strings.Join(parts, ", ")
}

func keyOf(k []string) string { return strings.Join(k, "\x1f") }

// Cell returns the cell with the given dimension values, or nil.
func (t *Table) Cell(key ...string) *Cell {
	if i, ok := t.index[keyOf(key)]; ok {
		return t.Cells[i]
	}
	return nil
}

// Validate checks that the metadata names a persons column and at least one dimension, and
// that no column has two roles.
func (m Meta) Validate() error {
	if m.Persons == "" {
		return errors.New("metadata: persons names no column (which column counts persons?)")
	}
	if len(m.Dimensions) == 0 {
		return errors.New("metadata: no dimensions (which columns name a cell?)")
	}
	seen := map[string]string{}
	add := func(role string, cols ...string) error {
		for _, c := range cols {
			if c == "" {
				continue
			}
			if r, ok := seen[c]; ok {
				return fmt.Errorf("metadata: column %s is both %s and %s", c, r, role)
			}
			seen[c] = role
		}
		return nil
	}
	for _, e := range []error{add("persons", m.Persons), add("contributor", m.Contributor),
		add("a dimension", m.Dimensions...), add("a magnitude", m.Magnitudes...)} {
		if e != nil {
			return e
		}
	}
	for _, s := range m.Sensitive {
		if !slices.Contains(m.Dimensions, s) {
			return fmt.Errorf("metadata: sensitive column %s is not a dimension", s)
		}
	}
	for c, st := range m.Statistics {
		if !slices.Contains(m.Magnitudes, c) {
			return fmt.Errorf("metadata: statistics names column %s, not a magnitude", c)
		}
		if !slices.Contains(statisticTypes, st) {
			return fmt.Errorf("metadata: statistic of column %s: want one of %s", c, strings.Join(statisticTypes, ", "))
		}
	}
	for i, k := range m.StructuralCells {
		if len(k) != len(m.Dimensions) {
			return fmt.Errorf("metadata: structural_cells[%d]: want a value of each of the %d dimensions, got %d", i, len(m.Dimensions), len(k))
		}
	}
	if len(m.StructuralZeros) > 0 {
		return fmt.Errorf("metadata: structural_zeros (%s) declares dimensions, which name no cell and would let every zero of the table through: "+
			"name each structural zero cell in structural_cells, a value of each dimension (%s) in order, with a structural_reason",
			strings.Join(m.StructuralZeros, ", "), strings.Join(m.Dimensions, ", "))
	}
	return nil
}

// statisticTypes are the statistics a magnitude column may declare; min and max are named so
// that Check refuses them with a reason instead of the metadata being rejected as unknown.
var statisticTypes = []string{"sum", "count", "mean", "median", "sd", "quantile", "min", "max"}

// Statistic is the declared statistic of magnitude column c ("sum" when none is declared).
func (m Meta) Statistic(c string) string {
	if st := m.Statistics[c]; st != "" {
		return st
	}
	return "sum"
}

// ErrNotAggregate marks a file refused outright because it is not an aggregate: a row per
// person, identifiers, free text, or columns nobody described.
var ErrNotAggregate = errors.New("not aggregated data")

// ReadCSV reads an output file. Errors name the file, line and column, never a value.
// Columns the metadata does not name are reported by Check, not here.
func ReadCSV(name string, r io.Reader, m Meta) (*Table, []string, error) {
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", name, err)
	}
	head = slices.Clone(head)
	col := func(c string) (int, error) {
		if i := slices.Index(head, c); i >= 0 {
			return i, nil
		}
		return 0, fmt.Errorf("%s: no column %s (named in the metadata)", name, c)
	}
	pi, err := col(m.Persons)
	if err != nil {
		return nil, nil, err
	}
	ci := -1
	if m.Contributor != "" {
		if ci, err = col(m.Contributor); err != nil {
			return nil, nil, err
		}
	}
	di := make([]int, len(m.Dimensions))
	for i, d := range m.Dimensions {
		if di[i], err = col(d); err != nil {
			return nil, nil, err
		}
	}
	mi := make([]int, len(m.Magnitudes))
	for i, d := range m.Magnitudes {
		if mi[i], err = col(d); err != nil {
			return nil, nil, err
		}
	}
	t := &Table{Name: name, Meta: m, index: map[string]int{}, magWhole: make([]bool, len(mi)), magMax: make([]float64, len(mi))}
	for i := range t.magWhole {
		t.magWhole[i] = true
	}
	key := make([]string, len(di))
	mags := make([]float64, len(mi))
	var sb strings.Builder
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		t.rows++
		n, err := strconv.ParseInt(strings.TrimSpace(rec[pi]), 10, 64)
		if err != nil || n < 0 {
			return nil, nil, fmt.Errorf("%s:%d: column %s: want a whole number of persons, 0 or more", name, line, m.Persons)
		}
		if n == 1 {
			t.rowsOfOne++
		}
		for i, j := range mi {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[j]), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s:%d: column %s: want a number", name, line, m.Magnitudes[i])
			}
			mags[i] = v
			t.magWhole[i] = t.magWhole[i] && v == math.Trunc(v)
			t.magMax[i] = max(t.magMax[i], math.Abs(v))
		}
		sb.Reset()
		for i, j := range di {
			if i > 0 {
				sb.WriteByte('\x1f')
			}
			sb.WriteString(rec[j])
		}
		k := sb.String()
		idx, ok := t.index[k]
		if !ok {
			for i, j := range di {
				key[i] = rec[j]
			}
			idx = len(t.Cells)
			t.index[k] = idx
			t.Cells = append(t.Cells, &Cell{Key: slices.Clone(key), Magnitudes: make([]float64, len(mi)),
				contrib: map[string][]float64{}, contributor: map[string]bool{}})
		}
		c := t.Cells[idx]
		c.Persons += n
		who := "" // without a contributor column the cell's one row is its one contribution
		if ci >= 0 {
			who = rec[ci]
			if n > 0 {
				c.contributor[who] = true
			}
		}
		cm, ok := c.contrib[who]
		if !ok {
			cm = make([]float64, len(mi))
			if ci >= 0 {
				who = strings.Clone(who)
			}
			c.contrib[who] = cm
		} else {
			t.repeats++
		}
		for i, v := range mags {
			c.Magnitudes[i] += v
			cm[i] += v
		}
	}
	for i, k := range m.StructuralCells {
		if t.Cell(k...) == nil {
			return nil, nil, fmt.Errorf("%s: metadata: structural_cells[%d]: names no cell of the table (want a value of each dimension, %s, in order)", name, i, strings.Join(m.Dimensions, ", "))
		}
	}
	return t, head, nil
}
