package airlock

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/ledger"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// TableSource computes the table a TableSpec asks for over a stored cohort query
// (warehouse.Warehouse.TableOf): counts of persons or events, statistics of a value, by
// demographic, concept, visit and agency dimensions.
type TableSource interface {
	TableOf(ctx context.Context, p access.Principal, project, query string, dims []string, spec warehouse.TableSpec) (warehouse.Table, error)
}

// TableRequest asks Steward to compute a table and export it.
type TableRequest struct {
	Purpose    string   `json:"purpose"`
	Query      string   `json:"query"`               // a stored cohort query of the analyst's in the project
	Dimensions []string `json:"dimensions"`          // one or two of sex, age, race, vital_status, concept, visit_type, visit_location, agency, region
	Concepts   []string `json:"concepts,omitempty"`  // the concept dimension's levels: concept codes or ontology paths
	Statistic  string   `json:"statistic,omitempty"` // count of persons (default), events, or sum, mean, median, sd, quantile of a numeric value
	Concept    string   `json:"concept,omitempty"`   // the numeric value's concept code, or the events' concept (none: visits)
	Quantile   float64  `json:"quantile,omitempty"`  // p of a quantile
	Name       string   `json:"name,omitempty"`      // the file's name (default table.csv, or table.xlsx for format xlsx)
	// Format is the released file's: csv (the default) or xlsx (the checked table in a sheet
	// "table", the provenance in a sheet "provenance"). A name ending in .xlsx asks for xlsx.
	Format string `json:"format,omitempty"`
	// StructuralZeros are the cells the analyst declares structural zeros — impossible by
	// construction (a combination the data model cannot hold) — each as its dimension
	// values in Dimensions order; StructuralReason says why. A declared zero cell is shown as
	// 0, and the request always waits for a reviewer, who sees the reason. Every other zero
	// cell is suppressed like a small one.
	StructuralZeros  [][]string `json:"structural_zeros,omitempty"`
	StructuralReason string     `json:"structural_reason,omitempty"`
	Exception        string     `json:"exception,omitempty"`
	Agencies         []string   `json:"agencies,omitempty"`
	Analysis         string     `json:"analysis,omitempty"`
}

// incompleteComment is why a computed table the ledger could not clear waits for review.
const incompleteComment = "computed table: could not be proven safe within limits by the ledger over people; a reviewer decides"

// SubmitTable computes the table from the warehouse (through the governance gate), runs
// the disclosure checks on its true counts and contributors, checks its shown cells against
// every released cell's persons (the ledger over people), and releases it at once for an
// automatic analyst or queues it for review.
func (s *Service) SubmitTable(ctx context.Context, p access.Principal, project string, tr TableRequest) (*Request, error) {
	if s.Tables == nil {
		return nil, fmt.Errorf("%w: this server computes no tables (no warehouse)", derrors.Invalid)
	}
	if _, err := s.project(ctx, p, project, access.RequestExport); err != nil {
		return nil, err
	}
	if _, err := s.mode(ctx, project, p.User); err != nil {
		return nil, err
	}
	name, err := tr.fileName()
	if err != nil {
		return nil, err
	}
	spec := warehouse.TableSpec{Statistic: tr.Statistic, Concept: tr.Concept, Quantile: tr.Quantile, Levels: tr.Concepts}
	t, err := s.Tables.TableOf(ctx, p, project, tr.Query, slices.Clone(tr.Dimensions), spec)
	if err != nil {
		return nil, err
	}
	data, meta := tableCSV(t)
	if meta.StructuralCells, err = tr.structural(t); err != nil {
		return nil, err
	}
	if len(meta.StructuralCells) > 0 { // the provenance keeps the declaration
		t.StructuralZeros, t.StructuralReason = meta.StructuralCells, strings.TrimSpace(tr.StructuralReason)
	}
	sub := Submission{Purpose: tr.Purpose, Exception: tr.Exception, Agencies: tr.Agencies, Analysis: tr.Analysis,
		Files: []FileInput{{Name: name, Meta: meta, Data: data, table: &t}}, StructuralReason: strings.TrimSpace(tr.StructuralReason)}
	return s.submit(ctx, p, project, sub, true)
}

// structural checks the declared structural zeros against t: each names a cell of the table
// (a value of every dimension, in order), and a declaration needs its reason.
func (tr TableRequest) structural(t warehouse.Table) ([][]string, error) {
	if len(tr.StructuralZeros) == 0 {
		if strings.TrimSpace(tr.StructuralReason) != "" {
			return nil, fmt.Errorf("%w: structural_reason without structural_zeros: name the cells whose zeros are structural", derrors.Invalid)
		}
		return nil, nil
	}
	if strings.TrimSpace(tr.StructuralReason) == "" {
		return nil, fmt.Errorf("%w: structural_zeros need a structural_reason: why can these cells not hold anyone?", derrors.Invalid)
	}
	var out [][]string
	for i, k := range tr.StructuralZeros {
		if !slices.ContainsFunc(t.Cells, func(c warehouse.TableCell) bool { return slices.Equal(c.Key, k) }) {
			return nil, fmt.Errorf("%w: structural_zeros[%d]: want a cell of the table, a level of each of its dimensions (%s) in order; got %d value(s) that name none",
				derrors.Invalid, i, strings.Join(t.Dimensions, ", "), len(k))
		}
		if !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, k) }) {
			out = append(out, slices.Clone(k))
		}
	}
	return out, nil
}

// fileName is the released file's name: tr.Name, or table.csv / table.xlsx by tr.Format; a
// name and a format that disagree are refused.
func (tr TableRequest) fileName() (string, error) {
	format := strings.ToLower(strings.TrimSpace(tr.Format))
	switch format {
	case "", "csv", "xlsx":
	default:
		return "", fmt.Errorf("%w: format %q: want csv or xlsx", derrors.Invalid, tr.Format)
	}
	name := tr.Name
	if name == "" {
		name = "table." + cmp.Or(format, "csv")
	}
	if name != filepath.Base(name) || !strings.HasSuffix(name, ".csv") && !strings.HasSuffix(name, ".xlsx") {
		return "", fmt.Errorf("%w: file name %q: want a plain name ending in .csv or .xlsx", derrors.Invalid, name)
	}
	if format != "" && !strings.HasSuffix(name, "."+format) {
		return "", fmt.Errorf("%w: file name %q and format %s disagree", derrors.Invalid, name, format)
	}
	return name, nil
}

// tableCSV writes a computed table as the checks read it: a row per cell and contributing
// agency (the agency column is the contributor, never released), and a row of 0 persons
// for a zero cell (which the checks suppress unless it is declared structural).
func tableCSV(t warehouse.Table) (string, disclosure.Meta) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	contributor := "agency"
	if slices.Contains(t.Dimensions, warehouse.DimAgency) {
		contributor = "contributing_agency"
	}
	head := append(slices.Clone(t.Dimensions), contributor, "persons")
	meta := disclosure.Meta{Persons: "persons", Contributor: contributor, Dimensions: slices.Clone(t.Dimensions),
		Population: "dwh:" + t.Project + ":" + t.QueryID}
	for _, d := range t.Dimensions {
		if strings.HasSuffix(d, warehouse.OverlapMark) {
			meta.Overlapping = append(meta.Overlapping, d)
		}
	}
	// a value table: the statistic's column, which the released file sums over a cell's rows —
	// for a sum each agency's rows carry its persons' sum; for another statistic the cell's
	// first row carries it and the others 0 (the checks judge the persons' values, not the rows)
	// an events table's column is summed as a sum's: each agency's rows carry its persons' events
	value := t.Statistic != warehouse.StatisticPersons
	summed := t.Statistic == "sum" || t.Statistic == warehouse.StatisticEvents
	if value {
		head = append(head, t.Statistic)
		meta.Magnitudes = []string{t.Statistic}
		meta.Statistics = map[string]string{t.Statistic: t.Statistic}
		if t.Statistic == warehouse.StatisticEvents {
			meta.Statistics[t.Statistic] = "count"
		}
	}
	w.Write(head)
	for _, c := range t.Cells {
		if len(c.Agencies) == 0 { // a zero cell: one row of no persons, so that the checks judge it
			row := append(slices.Clone(c.Key), "", "0")
			if value {
				row = append(row, "0")
			}
			w.Write(row)
			continue
		}
		for i, a := range slices.Sorted(mapKeys(c.Agencies)) {
			row := append(slices.Clone(c.Key), a, strconv.FormatInt(c.Agencies[a], 10))
			switch {
			case !value:
			case summed:
				row = append(row, strconv.FormatFloat(c.Sums[a], 'g', -1, 64))
			case i == 0:
				row = append(row, strconv.FormatFloat(c.Value, 'g', -1, 64))
			default:
				row = append(row, "0")
			}
			w.Write(row)
		}
	}
	w.Flush()
	return b.String(), meta
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// cellLabel names a cell as the checks' evidence does.
func cellLabel(dims, key []string) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d + "=" + key[i]
	}
	return strings.Join(parts, ", ")
}

func encodeBitmap(b *roaring.Bitmap) (string, error) {
	raw, err := b.ToBytes()
	return base64.StdEncoding.EncodeToString(raw), err
}

func decodeBitmap(s string) (*roaring.Bitmap, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	b := roaring.New()
	return b, b.UnmarshalBinary(raw)
}

// saveComputed keeps, in tx, every cell's persons and the provenance of r's computed files.
func saveComputed(ctx context.Context, tx *sql.Tx, r *Request, in []FileInput) error {
	for _, f := range in {
		if f.table == nil {
			continue
		}
		prov, _ := json.Marshal(f.table)
		if _, err := tx.ExecContext(ctx, `INSERT INTO export_provenance (request_id, file, provenance) VALUES ($1, $2, $3)`, r.ID, f.Name, string(prov)); err != nil {
			return err
		}
		for _, c := range f.table.Cells {
			enc, err := encodeBitmap(c.Persons)
			if err != nil {
				return err
			}
			vals := ""
			if len(c.Values) > 0 {
				b, err := json.Marshal(c.Values)
				if err != nil {
					return err
				}
				vals = string(b)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO computed_cells (request_id, file, label, persons, person_values) VALUES ($1, $2, $3, $4, $5)`,
				r.ID, f.Name, cellLabel(f.table.Dimensions, c.Key), enc, vals); err != nil {
				return err
			}
		}
	}
	return nil
}

// shownCells are the cells r's files show as they stand (hidden cells left out), with their
// persons: from the computed tables in hand, else from the store.
func (s *Service) shownCells(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, r *Request, in []FileInput) ([]ledger.Cell, []string, error) {
	persons := map[string]map[string]*roaring.Bitmap{}
	for _, f := range in {
		if f.table != nil {
			persons[f.Name] = map[string]*roaring.Bitmap{}
			for _, c := range f.table.Cells {
				persons[f.Name][cellLabel(f.table.Dimensions, c.Key)] = c.Persons
			}
		}
	}
	if in == nil {
		rows, err := q.QueryContext(ctx, `SELECT file, label, persons FROM computed_cells WHERE request_id = $1 ORDER BY file, label`, r.ID)
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var file, label, enc string
			if err := rows.Scan(&file, &label, &enc); err != nil {
				return nil, nil, err
			}
			b, err := decodeBitmap(enc)
			if err != nil {
				return nil, nil, fmt.Errorf("export %s file %s: cell %s: %w", r.ID, file, label, err)
			}
			if persons[file] == nil {
				persons[file] = map[string]*roaring.Bitmap{}
			}
			persons[file][label] = b
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	var out []ledger.Cell
	var files []string
	for _, f := range r.Files {
		cells := persons[f.Name]
		if cells == nil {
			continue
		}
		hidden := map[string]bool{}
		for _, e := range f.Result.Hidden {
			hidden[e.Cell] = true
		}
		for _, l := range slices.Sorted(mapKeys(cells)) {
			if !hidden[l] || slices.Contains(f.Result.Freed, l) {
				out = append(out, ledger.Cell{Release: r.ID, Label: f.Name + ": " + l, Persons: cells[l]})
				files = append(files, f.Name)
			}
		}
	}
	return out, files, nil
}

// releasedCells is every cell released from the warehouse, of any project, label or analyst.
func (s *Service) releasedCells(ctx context.Context) ([]ledger.Cell, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT request_id, file, label, persons FROM released_cells ORDER BY released_at, request_id, file, label`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.Cell
	for rows.Next() {
		var id, file, label, enc string
		if err := rows.Scan(&id, &file, &label, &enc); err != nil {
			return nil, err
		}
		b, err := decodeBitmap(enc)
		if err != nil {
			return nil, fmt.Errorf("released cell of %s: %w", id, err)
		}
		out = append(out, ledger.Cell{Release: id, Label: file + ": " + label, Persons: b})
	}
	return out, rows.Err()
}

// checkPeople runs the ledger over people for r's shown computed cells against every
// released cell. It returns the finding and, when a group is determined, an explanation for
// p naming only the releases p may see (others are counted).
func (s *Service) checkPeople(ctx context.Context, p access.Principal, r *Request, st Settings, in []FileInput) (ledger.Finding, string, bool, error) {
	proposed, _, err := s.shownCells(ctx, s.DB, r, in)
	if err != nil || len(proposed) == 0 {
		return ledger.Finding{}, "", false, err
	}
	released, err := s.releasedCells(ctx)
	if err != nil {
		return ledger.Finding{}, "", false, err
	}
	o := s.Ledger
	o.Threshold = st.Rules.WithDefaults().MinPersons + 1
	f := ledger.Check(released, proposed, o)
	if len(f.Groups) == 0 {
		return f, "", true, nil
	}
	visible := map[string]bool{r.ID: true}
	var named []string
	others := map[string]bool{}
	for _, g := range f.Groups {
		for _, id := range g.Releases {
			if _, ok := visible[id]; !ok {
				_, err := s.Get(ctx, p, id)
				visible[id] = err == nil
			}
			switch {
			case id == r.ID:
			case visible[id]:
				if !slices.Contains(named, id) {
					named = append(named, id)
				}
			default:
				others[id] = true
			}
		}
	}
	why := fmt.Sprintf("the ledger over people: combined with earlier releases, its shown cells determine the count of a group of 1 to %d persons", o.Threshold-1)
	if len(named) > 0 {
		why += " (releases combined: " + strings.Join(named, ", ")
		if len(others) > 0 {
			why += fmt.Sprintf(", and %d release(s) you may not see", len(others))
		}
		why += ")"
	} else if len(others) > 0 {
		why += fmt.Sprintf(" (with %d release(s) you may not see)", len(others))
	}
	return f, why, true, nil
}

// recordReleased copies, in tx, the cells r's computed files show to released_cells.
func (s *Service) recordReleased(ctx context.Context, tx *sql.Tx, r *Request) error {
	cells, files, err := s.shownCells(ctx, tx, r, nil)
	if err != nil {
		return err
	}
	now := store.FormatTime(s.Now().UTC())
	for i, c := range cells {
		enc, err := encodeBitmap(c.Persons)
		if err != nil {
			return err
		}
		label := strings.TrimPrefix(c.Label, files[i]+": ")
		if _, err := tx.ExecContext(ctx, `INSERT INTO released_cells (request_id, project, file, label, persons, released_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, r.Project, files[i], label, enc, now); err != nil {
			return err
		}
	}
	return nil
}

// personValues sets, on t's cells, the per-person values kept for r's computed file (none
// for a count of persons or an upload), for the checks at approval.
func (s *Service) personValues(ctx context.Context, r *Request, file string, t *disclosure.Table) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT label, person_values FROM computed_cells WHERE request_id = $1 AND file = $2 AND person_values <> ''`, r.ID, file)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := map[string][]float64{}
	for rows.Next() {
		var label, enc string
		if err := rows.Scan(&label, &enc); err != nil {
			return err
		}
		var v []float64
		if err := json.Unmarshal([]byte(enc), &v); err != nil {
			return fmt.Errorf("export %s file %s: cell %s: values: %w", r.ID, file, label, err)
		}
		vals[label] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range t.Cells {
		if v, ok := vals[cellLabel(t.Meta.Dimensions, c.Key)]; ok {
			c.Values = v
		}
	}
	return nil
}
