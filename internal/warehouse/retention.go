package warehouse

import (
	"context"
	"database/sql"
	"time"

	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
)

// RetentionKinds are the warehouse's records a retention rule applies to (issue 9): the
// stored cohort queries of projects that ended, with their instances and results. Add them
// to governance.Service.Kinds.
func RetentionKinds() []governance.Kind {
	masters := `SELECT query_master_id FROM qt_query_master WHERE ` + governance.EndedProjects
	instances := `SELECT query_instance_id FROM qt_query_instance WHERE query_master_id IN (` + masters + `)`
	return []governance.Kind{{
		Name:     "project_queries",
		Describe: "stored cohort queries and their results, of projects that ended",
		Count: func(ctx context.Context, db *store.DB, cutoff time.Time) (int64, error) {
			var n int64
			err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM qt_query_master WHERE `+governance.EndedProjects, store.FormatTime(cutoff)).Scan(&n)
			return n, err
		},
		Remove: func(ctx context.Context, tx *sql.Tx, cutoff time.Time) (int64, error) {
			at := store.FormatTime(cutoff)
			for _, q := range []string{
				`DELETE FROM qt_query_result_instance WHERE query_instance_id IN (` + instances + `)`,
				`DELETE FROM qt_query_instance WHERE query_master_id IN (` + masters + `)`,
			} {
				if _, err := tx.ExecContext(ctx, q, at); err != nil {
					return 0, err
				}
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM qt_query_master WHERE `+governance.EndedProjects, at)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
	}}
}
