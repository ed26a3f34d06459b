package i2b2

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/stewardhealth/steward/internal/store"
)

// Result is a result instance other than the patient count, as the user was told it.
type Result struct {
	ID, Master  string
	Type        string // PATIENTSET, PATIENT_GENDER_COUNT_XML, …
	SetSize     int64
	Method      string // obfuscate_method: "" for exact
	Description string
	Document    string // the i2b2_result_envelope (breakdowns); "" for a PATIENTSET
	Created     time.Time
}

// SaveRun stores what a run asked with (the query_definition as XML) and the results it
// told beside the count. The query master must exist (the warehouse stored it).
func SaveRun(ctx context.Context, db *store.DB, master, requestXML string, results []Result) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO i2b2_requests (query_master_id, request_xml) VALUES ($1, $2)`, master, requestXML); err != nil {
			return err
		}
		for _, r := range results {
			if _, err := tx.ExecContext(ctx, `INSERT INTO i2b2_results (result_instance_id, query_master_id, result_type, set_size,
				obfuscate_method, description, document, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				r.ID, master, r.Type, r.SetSize, r.Method, r.Description, r.Document, store.FormatTime(r.Created)); err != nil {
				return err
			}
		}
		return nil
	})
}

// RequestXML is the query_definition a query master was run with through the CRC cell
// ("" when it was run through Steward's own API).
func RequestXML(ctx context.Context, db *store.DB, master string) (string, error) {
	var s string
	err := db.QueryRowContext(ctx, `SELECT request_xml FROM i2b2_requests WHERE query_master_id = $1`, master).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return s, err
}

// Results are the stored results of a query master beside its count, in the order told.
func Results(ctx context.Context, db *store.DB, master string) ([]Result, error) {
	rows, err := db.QueryContext(ctx, `SELECT result_instance_id, result_type, set_size, obfuscate_method, description, document, created_at
		FROM i2b2_results WHERE query_master_id = $1 ORDER BY result_instance_id`, master)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Result
	for rows.Next() {
		r := Result{Master: master}
		var created store.NullTime
		if err := rows.Scan(&r.ID, &r.Type, &r.SetSize, &r.Method, &r.Description, &r.Document, &created); err != nil {
			return nil, err
		}
		r.Created = created.Time
		out = append(out, r)
	}
	return out, rows.Err()
}

// ResultMaster is the query master of a stored result ("" when none is stored).
func ResultMaster(ctx context.Context, db *store.DB, result string) (string, error) {
	var m string
	err := db.QueryRowContext(ctx, `SELECT query_master_id FROM i2b2_results WHERE result_instance_id = $1`, result).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return m, err
}

// Rename sets the name i2b2 clients see of a query master.
func Rename(ctx context.Context, db *store.DB, master, name string) error {
	_, err := db.ExecContext(ctx, `INSERT INTO i2b2_masters (query_master_id, name) VALUES ($1, $2)
		ON CONFLICT (query_master_id) DO UPDATE SET name = excluded.name`, master, name)
	return err
}

// Hide takes a query master out of the CRC cell's lists (i2b2's delete); the query stays.
func Hide(ctx context.Context, db *store.DB, master string, at time.Time) error {
	_, err := db.ExecContext(ctx, `INSERT INTO i2b2_masters (query_master_id, deleted_at) VALUES ($1, $2)
		ON CONFLICT (query_master_id) DO UPDATE SET deleted_at = excluded.deleted_at`, master, store.FormatTime(at))
	return err
}

// Master is what i2b2 clients changed of a query master.
type Master struct {
	Name   string // "" when never renamed
	Hidden bool
}

// Masters reads what was changed of the query masters of a user's project (by id).
func Masters(ctx context.Context, db *store.DB, project, user string) (map[string]Master, error) {
	rows, err := db.QueryContext(ctx, `SELECT x.query_master_id, COALESCE(x.name, ''), x.deleted_at IS NOT NULL FROM i2b2_masters x
		JOIN qt_query_master m ON m.query_master_id = x.query_master_id WHERE m.project = $1 AND m.user_name = $2`, project, user)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Master{}
	for rows.Next() {
		var id string
		var m Master
		if err := rows.Scan(&id, &m.Name, &m.Hidden); err != nil {
			return nil, err
		}
		out[id] = m
	}
	return out, rows.Err()
}
