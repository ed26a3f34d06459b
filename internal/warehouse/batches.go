package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// The data validator (issue 16, seed 003). When review is required (a site setting, off
// unless an administrator turns it on), a load lands as a batch in the staging tables, which
// nothing that answers analysts reads: not cohort counts, breakdowns, totalnums, patient-level
// reads nor exports. A user holding DATA_VALIDATOR in a project whose agencies the batch's
// rows belong to (a site project: any agency the user sees) reviews it — rows per table and
// agency, rows rejected, the first rows as a validator may see them (no sealed columns, no
// identified data) — and approves it (its rows move into the warehouse in one transaction,
// and the load generation is bumped so that cached cohorts are dropped) or rejects it (its
// rows are deleted). Every review and decision is audited, with counts and ids only.

// Batch is one load.
type Batch struct {
	ID        int64      `json:"id"`
	Agency    string     `json:"agency,omitempty"`
	Status    string     `json:"status"` // pending, approved, rejected, direct
	Rows      int64      `json:"rows"`
	LoadedAt  time.Time  `json:"loaded_at"`
	LoadedBy  string     `json:"loaded_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	DecidedBy string     `json:"decided_by,omitempty"`
}

// TableCount is a number of rows of one table (and agency).
type TableCount struct {
	Table  string `json:"table"`
	Agency string `json:"agency,omitempty"`
	Rows   int64  `json:"rows"`
	Reason string `json:"reason,omitempty"` // why rows are rejected
}

// BatchReview is what a validator sees of a batch.
type BatchReview struct {
	Batch    Batch        `json:"batch"`
	Counts   []TableCount `json:"counts"`
	Rejected []TableCount `json:"rejected"`
	// Sample holds, per table, its first rows by key, column → value; sealed columns read
	// "(sealed)", and patient_identity is counted only.
	Sample map[string][]map[string]any `json:"sample"`
}

// storeKeys are the key columns of the warehouse tables that have one; a staged row whose
// key the warehouse or its batch already holds is rejected.
var storeKeys = map[string][]string{
	"concept_dimension":  {"concept_path", "agency"},
	"modifier_dimension": {"modifier_path", "agency"},
	"provider_dimension": {"provider_path", "provider_id", "agency"},
	"patient_dimension":  {"patient_num"},
	"visit_dimension":    {"encounter_num"},
	"patient_mapping":    {"patient_ide", "patient_ide_source", "project_id"},
	"encounter_mapping":  {"encounter_ide", "encounter_ide_source", "project_id"},
	"patient_identity":   {"patient_num"},
}

// ReviewRequired reports whether loads wait for a validator (warehouse_review; default off).
func (w *Warehouse) ReviewRequired(ctx context.Context) (bool, error) {
	return ReviewRequiredIn(ctx, w.DB)
}

// ReviewRequiredIn is ReviewRequired of a store, for the loader.
func ReviewRequiredIn(ctx context.Context, db *store.DB) (bool, error) {
	var on int64
	err := db.QueryRowContext(ctx, `SELECT required FROM warehouse_review WHERE id = 1`).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return on != 0, err
}

// SetReviewRequired turns review of loads on or off: the site's administrators, audited
// with the reason.
func (w *Warehouse) SetReviewRequired(ctx context.Context, p access.Principal, on bool, reason string) error {
	if err := access.Check(p, access.ManageUsers, access.Project{}); err != nil || p.Agency != "" {
		return errors.Join(fmt.Errorf("%w: only the site's administrators change whether loads are reviewed", derrors.Forbidden),
			w.Access.Record(ctx, p, "warehouse.review_setting_refused", "warehouse/review", map[string]string{"reason": "not a site administrator"}))
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 || len(reason) > 500 {
		return fmt.Errorf("%w: give a reason for the change (5 to 500 characters)", derrors.Invalid)
	}
	old, err := w.ReviewRequired(ctx)
	if err != nil {
		return err
	}
	v := 0
	if on {
		v = 1
	}
	return w.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO warehouse_review (id, required, updated_at, updated_by) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET required = excluded.required, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			v, store.FormatTime(time.Now()), p.User); err != nil {
			return fmt.Errorf("warehouse_review: %w", err)
		}
		return w.Access.RecordTx(ctx, tx, p, "warehouse.review_setting", "warehouse/review",
			map[string]string{"required": fmt.Sprintf("%t → %t", old, on), "reason": reason})
	})
}

func scanBatch(sc interface{ Scan(...any) error }) (Batch, error) {
	var b Batch
	var loaded string
	var decided sql.NullString
	err := sc.Scan(&b.ID, &b.Agency, &b.Status, &b.Rows, &loaded, &b.LoadedBy, &decided, &b.DecidedBy)
	if err != nil {
		return b, err
	}
	b.LoadedAt, _ = store.ParseTime(loaded)
	if decided.Valid {
		t, _ := store.ParseTime(decided.String)
		b.DecidedAt = &t
	}
	return b, nil
}

const batchColumns = `id, agency, status, rows, loaded_at, loaded_by, decided_at, decided_by`

// batchAgencies are the agencies of a batch's rows (for a pending batch, from its staged
// rows other than ontology entries).
func (w *Warehouse) batchAgencies(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, b Batch) ([]string, error) {
	if b.Status != load.Pending {
		return []string{b.Agency}, nil
	}
	var parts []string
	for _, t := range schema.Tables {
		if t.Name == "ontology" {
			continue // the ontology entries a load adds for its demographics are the site's ('')
		}
		parts = append(parts, `SELECT DISTINCT agency FROM `+load.StagedName(t)+` WHERE batch_id = $1`)
	}
	rows, err := q.QueryContext(ctx, strings.Join(parts, " UNION ")+` ORDER BY 1`, b.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = []string{b.Agency}
	}
	return out, rows.Err()
}

// validator checks that p may validate data in the project, and returns it.
func (w *Warehouse) validator(ctx context.Context, p access.Principal, code string) (access.Project, error) {
	x, err := w.Access.Project(ctx, p, code)
	if err != nil {
		return x, err
	}
	if err := access.Check(p, access.ValidateData, x); err != nil {
		return x, errors.Join(err, w.Access.Record(ctx, p, "warehouse.batch_refused", "project/"+code, map[string]string{"reason": "not a data validator"}))
	}
	return x, nil
}

// covers reports whether the project's validators may review rows of the agencies.
func covers(p access.Principal, x access.Project, agencies []string) bool {
	for _, a := range agencies {
		if !p.Sees(a) || x.Agency != "" && a != x.Agency {
			return false
		}
	}
	return true
}

// Batches lists the batches a validator of the project may review, newest first.
func (w *Warehouse) Batches(ctx context.Context, p access.Principal, project string) ([]Batch, error) {
	x, err := w.validator(ctx, p, project)
	if err != nil {
		return nil, err
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT `+batchColumns+` FROM warehouse_batches ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("warehouse_batches: %w", err)
	}
	var all []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Batch{}
	for _, b := range all {
		ags, err := w.batchAgencies(ctx, w.DB, b)
		if err != nil {
			return nil, err
		}
		if covers(p, x, ags) {
			out = append(out, b)
		}
	}
	return out, nil
}

// batch reads one batch the validator may review (not found otherwise, as for an unknown id).
func (w *Warehouse) batch(ctx context.Context, p access.Principal, x access.Project, id int64) (Batch, error) {
	b, err := scanBatch(w.DB.QueryRowContext(ctx, `SELECT `+batchColumns+` FROM warehouse_batches WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("%w: batch %d", derrors.NotFound, id)
	}
	if err != nil {
		return b, err
	}
	ags, err := w.batchAgencies(ctx, w.DB, b)
	if err != nil {
		return b, err
	}
	if !covers(p, x, ags) {
		return Batch{}, fmt.Errorf("%w: batch %d", derrors.NotFound, id)
	}
	return b, nil
}

// rejectedCount counts a pending batch's rows of table t whose key the warehouse already
// holds, plus those whose key the batch holds more than once (a row can count twice).
func rejectedCount(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, t *schema.Table, id int64) (int64, error) {
	keys := storeKeys[t.Name]
	if keys == nil {
		return 0, nil
	}
	var inStore []string
	for _, k := range keys {
		inStore = append(inStore, "w."+k+" = s."+k)
	}
	var held, twice int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+load.StagedName(t)+` s WHERE s.batch_id = $1 AND
		EXISTS (SELECT 1 FROM `+t.StoreName()+` w WHERE `+strings.Join(inStore, " AND ")+`)`, id).Scan(&held)
	if err == nil {
		err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM `+load.StagedName(t)+
			` WHERE batch_id = $1 GROUP BY `+strings.Join(keys, ", ")+` HAVING COUNT(*) > 1) d`, id).Scan(&twice)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", load.StagedName(t), err)
	}
	return held + twice, nil
}

// ReviewBatch is what a validator of the project sees of a batch: rows per table and agency,
// rows rejected, and the first sample rows of each table (at most 50). Audited.
func (w *Warehouse) ReviewBatch(ctx context.Context, p access.Principal, project string, id int64, sample int) (BatchReview, error) {
	x, err := w.validator(ctx, p, project)
	if err != nil {
		return BatchReview{}, err
	}
	b, err := w.batch(ctx, p, x, id)
	if err != nil {
		return BatchReview{}, err
	}
	r := BatchReview{Batch: b, Counts: []TableCount{}, Rejected: []TableCount{}, Sample: map[string][]map[string]any{}}
	if b.Status != load.Pending {
		return r, w.Access.Record(ctx, p, "warehouse.batch_review", "warehouse/batch/"+strconv.FormatInt(id, 10), map[string]string{"status": b.Status})
	}
	sample = min(max(sample, 0), 50)
	var rejected int64
	for _, t := range schema.Tables {
		rows, err := w.DB.QueryContext(ctx, `SELECT agency, COUNT(*) FROM `+load.StagedName(t)+` WHERE batch_id = $1 GROUP BY agency ORDER BY agency`, id)
		if err != nil {
			return r, fmt.Errorf("%s: %w", load.StagedName(t), err)
		}
		for rows.Next() {
			c := TableCount{Table: t.Name}
			if err := rows.Scan(&c.Agency, &c.Rows); err != nil {
				rows.Close()
				return r, err
			}
			r.Counts = append(r.Counts, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return r, err
		}
		n, err := rejectedCount(ctx, w.DB, t, id)
		if err != nil {
			return r, err
		}
		if n > 0 {
			r.Rejected = append(r.Rejected, TableCount{Table: t.Name, Rows: n, Reason: "key (" + strings.Join(storeKeys[t.Name], ", ") + ") already in the warehouse or twice in the batch"})
			rejected += n
		}
		if sample == 0 || t.Name == "patient_identity" {
			continue // identified data: DATA_PROT only, never a validator
		}
		if err := w.sampleRows(ctx, t, id, sample, r.Sample); err != nil {
			return r, err
		}
	}
	return r, w.Access.Record(ctx, p, "warehouse.batch_review", "warehouse/batch/"+strconv.FormatInt(id, 10),
		map[string]string{"status": b.Status, "rows": strconv.FormatInt(b.Rows, 10), "rejected": strconv.FormatInt(rejected, 10), "sample_rows": strconv.Itoa(sample)})
}

// sampleRows reads the first n staged rows of t by its key, sealed columns left out.
func (w *Warehouse) sampleRows(ctx context.Context, t *schema.Table, id int64, n int, out map[string][]map[string]any) error {
	cols := t.StoreColumns()
	order := slices.Clone(t.Key)
	if len(order) == 0 {
		order = cols[:1]
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+load.StagedName(t)+` WHERE batch_id = $1 ORDER BY `+
		strings.Join(order, ", ")+` LIMIT `+strconv.Itoa(n), id)
	if err != nil {
		return fmt.Errorf("%s: %w", load.StagedName(t), err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		m := map[string]any{}
		for i, c := range cols {
			v := vals[i]
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if k := t.Index(c); k >= 0 && t.Cols[k].Kind == schema.Blob && v != nil && v != "" {
				v = "(sealed)"
			}
			m[c] = v
		}
		out[t.Name] = append(out[t.Name], m)
	}
	return rows.Err()
}

// DecideBatch approves or rejects a pending batch: a validator of the project whose
// agencies the batch's rows belong to, with a reason (audited). Approval is refused while
// the batch has rejected rows; approved rows move into the warehouse, rejected ones are
// deleted.
func (w *Warehouse) DecideBatch(ctx context.Context, p access.Principal, project string, id int64, approve bool, reason string) (Batch, error) {
	x, err := w.validator(ctx, p, project)
	if err != nil {
		return Batch{}, err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 || len(reason) > 500 {
		return Batch{}, fmt.Errorf("%w: give a reason for the decision (5 to 500 characters)", derrors.Invalid)
	}
	b, err := w.batch(ctx, p, x, id)
	if err != nil {
		return Batch{}, err
	}
	status, action := load.Rejected, "warehouse.batch_reject"
	if approve {
		status, action = load.Approved, "warehouse.batch_approve"
	}
	now := store.FormatTime(time.Now())
	err = w.DB.Tx(ctx, func(tx *sql.Tx) error {
		// The batch is claimed first, so that two decisions cannot both apply.
		res, err := tx.ExecContext(ctx, `UPDATE warehouse_batches SET status = $1, decided_at = $2, decided_by = $3 WHERE id = $4 AND status = $5`,
			status, now, p.User, id, load.Pending)
		if err != nil {
			return fmt.Errorf("warehouse_batches: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: batch %d is %s, not pending", derrors.Conflict, id, b.Status)
		}
		for _, t := range schema.Tables {
			if approve {
				n, err := rejectedCount(ctx, tx, t, id)
				if err != nil {
					return err
				}
				if n > 0 {
					return fmt.Errorf("%w: batch %d has %d rejected rows of %s; reject it and load them again", derrors.Conflict, id, n, t.Name)
				}
				cols := strings.Join(t.StoreColumns(), ", ")
				q := `INSERT INTO ` + t.StoreName() + ` (` + cols + `) SELECT ` + cols + ` FROM ` + load.StagedName(t) + ` WHERE batch_id = $1`
				if t.Name == "ontology" {
					q += ` ON CONFLICT (c_fullname, agency) DO NOTHING` // as a load adds its demographic entries
				}
				if _, err := tx.ExecContext(ctx, q, id); err != nil {
					return fmt.Errorf("%s: %w", t.StoreName(), err)
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+load.StagedName(t)+` WHERE batch_id = $1`, id); err != nil {
				return fmt.Errorf("%s: %w", load.StagedName(t), err)
			}
		}
		if approve {
			if _, err := tx.ExecContext(ctx, `INSERT INTO warehouse_loads (seq, loaded_at, rows) SELECT COALESCE(MAX(seq), 0) + 1, $1, $2 FROM warehouse_loads`, now, b.Rows); err != nil {
				return fmt.Errorf("warehouse_loads: %w", err)
			}
		}
		return w.Access.RecordTx(ctx, tx, p, action, "warehouse/batch/"+strconv.FormatInt(id, 10),
			map[string]string{"project": x.Code, "rows": strconv.FormatInt(b.Rows, 10), "reason": reason})
	})
	if err != nil {
		return Batch{}, err
	}
	t := time.Now().UTC()
	b.Status, b.DecidedAt, b.DecidedBy = status, &t, p.User
	return b, nil
}
