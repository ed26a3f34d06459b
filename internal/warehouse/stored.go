package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// stored is a query the user ran in the project, read back.
func (w *Warehouse) stored(ctx context.Context, p access.Principal, x access.Project, id string) (querydef.Query, Answer, error) {
	var def string
	var a Answer
	var created store.NullTime
	err := w.DB.QueryRowContext(ctx, `SELECT m.definition, m.name, i.query_instance_id, r.result_instance_id, r.result_type, r.set_size,
		r.shown, r.obfuscation_method, r.created_at FROM qt_query_master m JOIN qt_query_instance i ON i.query_master_id = m.query_master_id
		JOIN qt_query_result_instance r ON r.query_instance_id = i.query_instance_id
		WHERE m.query_master_id = $1 AND m.project = $2 AND m.user_name = $3`, id, x.Code, p.User).
		Scan(&def, &a.Name, &a.InstanceID, &a.ResultID, &a.ResultType, &a.Count, &a.Shown, &a.Method, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return querydef.Query{}, Answer{}, fmt.Errorf("%w: query %s", derrors.NotFound, id)
	}
	if err != nil {
		return querydef.Query{}, Answer{}, err
	}
	a.QueryID, a.Created = id, created.Time
	var q querydef.Query
	return q, a, json.Unmarshal([]byte(def), &q)
}

// Result reads back a stored answer: the shown size as it was given (re-reading never draws
// new noise), without breakdowns.
func (w *Warehouse) Result(ctx context.Context, p access.Principal, projectCode, id string) (Answer, error) {
	x, _, err := w.project(ctx, p, projectCode)
	if err != nil {
		return Answer{}, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return Answer{}, err
	}
	_, a, err := w.stored(ctx, p, x, id)
	return a, err
}

// Queries lists the user's stored queries in the project, newest first.
func (w *Warehouse) Queries(ctx context.Context, p access.Principal, projectCode string) ([]Answer, error) {
	x, _, err := w.project(ctx, p, projectCode)
	if err != nil {
		return nil, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return nil, err
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT query_master_id FROM qt_query_master WHERE project = $1 AND user_name = $2 ORDER BY created_at DESC LIMIT 200`, x.Code, p.User)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Answer{}
	for _, id := range ids {
		_, a, err := w.stored(ctx, p, x, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// resolver reads the stored queries that masterid items of p's queries in project x may name:
// p's own, in the same project (i2b2's previous queries), never another user's or project's.
func (w *Warehouse) resolver(p access.Principal, x access.Project) cohort.Resolver {
	return func(ctx context.Context, id string) (querydef.Query, error) {
		q, _, err := w.stored(ctx, p, x, id)
		if errors.Is(err, derrors.NotFound) {
			return querydef.Query{}, fmt.Errorf("%w: masterid:%s is not a query of yours in project %s", derrors.Invalid, id, x.Code)
		}
		return q, err
	}
}
