package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
)

// The lockout (seed 001: an obfuscated user "is limited on the number of times they can run
// the same query within a specified time period"). In budget mode the rule is exactly that:
// the LockoutCount-th run of the same query (the same canonical definition) within
// LockoutDays days locks the user out of queries — a rule on what is asked, never on the
// data, so that the lockout tells nothing. In i2b2's mode it is i2b2's: LockoutCount results
// of one type with the same real count within LockoutDays days (zeros not counted, unless
// LockoutZeros) — a rule on the data, which differencing pairs never trip and whose firing
// tells that counts were equal. Either way the user stays locked until an administrator
// unlocks with a reason; the answer that trips it is the last one given; every refused
// attempt is audited; the directors are told.

// lockout counts, in the transaction that stores answer a, what the rule counts, and locks
// the user when it reaches the limit. It reports whether a locked the account.
func (w *Warehouse) lockout(ctx context.Context, tx *sql.Tx, st Settings, p access.Principal, x access.Project, a Answer, real int64, canonical string) (bool, error) {
	if st.LockoutCount == 0 {
		return false, nil
	}
	var n int
	since := store.FormatTime(a.Created.AddDate(0, 0, -st.LockoutDays))
	var err error
	if st.Noise == noise.Budget {
		err = txQueryRow(ctx, w.DB, tx, `SELECT COUNT(*) FROM qt_query_master m JOIN qt_query_instance i ON i.query_master_id = m.query_master_id
			JOIN qt_query_result_instance r ON r.query_instance_id = i.query_instance_id
			WHERE m.user_name = $1 AND m.project = $2 AND m.canonical = $3 AND r.obfuscation_method <> '' AND r.created_at >= $4`,
			p.User, x.Code, canonical, since).Scan(&n)
	} else {
		if real == 0 && !st.LockoutZeros {
			return false, nil
		}
		err = txQueryRow(ctx, w.DB, tx, `SELECT COUNT(*) FROM qt_query_result_instance WHERE user_name = $1 AND result_type = $2
			AND real_set_size = $3 AND obfuscation_method <> '' AND created_at >= $4`, p.User, a.ResultType, real, since).Scan(&n)
	}
	if err != nil {
		return false, err
	}
	if n < st.LockoutCount {
		return false, nil
	}
	st2, err := w.DB.TxStmt(ctx, tx, `INSERT INTO query_lockouts (user_name, locked_at, results) VALUES ($1, $2, $3) ON CONFLICT (user_name) DO NOTHING`)
	if err != nil {
		return false, err
	}
	res, err := st2.ExecContext(ctx, p.User, store.FormatTime(a.Created), n)
	if err != nil {
		return false, err
	}
	// Only the answer that adds the row tripped the lockout (serialise and lockedIn make sure
	// no answer is given once it is there; this is the belt to their braces).
	added, err := res.RowsAffected()
	return added == 1, err
}

// serialise makes the transactions of one user's answers run one after the other, so that
// the lockout's count (and the check that the user is not locked) sees every answer stored
// before: on SQLite every transaction already holds the write lock from its start; on
// PostgreSQL, whose COUNT under read committed misses what concurrent transactions have not
// committed, a transaction-scoped advisory lock on the user's name, released at commit or
// rollback.
func (w *Warehouse) serialise(ctx context.Context, tx *sql.Tx, user string) error {
	if w.DB.Dialect != store.Postgres {
		return nil
	}
	return txExec(ctx, w.DB, tx, `SELECT pg_advisory_xact_lock(hashtext('steward.query_lockouts/' || $1))`, user)
}

// errLockedIn is a refusal found inside an answer's transaction: the user was locked out
// after the check before evaluation (by a concurrent answer).
type errLockedIn struct{ at time.Time }

func (e errLockedIn) Error() string { return "locked out of queries" }

// lockedIn refuses, in the answer's transaction and after serialise, when p is locked out.
func (w *Warehouse) lockedIn(ctx context.Context, tx *sql.Tx, user string) error {
	var at store.NullTime
	err := txQueryRow(ctx, w.DB, tx, `SELECT locked_at FROM query_lockouts WHERE user_name = $1`, user).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return errLockedIn{at.Time}
}

// lockoutRule says in words what the lockout counts.
func (w *Warehouse) lockoutRule(st Settings) string {
	if st.Noise == noise.Budget {
		return fmt.Sprintf("%d runs of the same query within %d days", st.LockoutCount, st.LockoutDays)
	}
	return fmt.Sprintf("%d results with the same real count within %d days (i2b2's rule)", st.LockoutCount, st.LockoutDays)
}

// refuseLocked refuses (and audits the refusal) when p is locked out of queries.
func (w *Warehouse) refuseLocked(ctx context.Context, p access.Principal, x access.Project) error {
	at, err := w.lockedSince(ctx, p.User)
	if err != nil || at.IsZero() {
		return err
	}
	return w.refusedLocked(ctx, p, x, at)
}

// refusedLocked is the refusal (audited) of p, locked out of queries since at.
func (w *Warehouse) refusedLocked(ctx context.Context, p access.Principal, x access.Project, at time.Time) error {
	return errors.Join(fmt.Errorf("%w: %s may not run queries since %s (too many results with the same count); an administrator can unlock", derrors.Locked, p.User, at.Format(time.DateOnly)),
		w.Access.Record(ctx, p, "warehouse.query_refused", "project/"+x.Code, map[string]string{"reason": "locked out of queries", "locked_at": store.FormatTime(at)}))
}

// lockedSince is when the user was locked out of queries, or zero.
func (w *Warehouse) lockedSince(ctx context.Context, user string) (time.Time, error) {
	var at store.NullTime
	err := w.DB.QueryRowContext(ctx, `SELECT locked_at FROM query_lockouts WHERE user_name = $1`, user).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return at.Time, err
}

// Lockout is a user locked out of queries.
type Lockout struct {
	User     string    `json:"user"`
	LockedAt time.Time `json:"locked_at"`
	Results  int       `json:"results"` // results with the same real count that tripped it
}

// Lockouts lists the users locked out of queries (administrators; cut to their agency).
func (w *Warehouse) Lockouts(ctx context.Context, p access.Principal) ([]Lockout, error) {
	if err := access.Check(p, access.UnlockAccount, access.Project{}); err != nil {
		return nil, err
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT l.user_name, l.locked_at, l.results FROM query_lockouts l JOIN users u ON u.name = l.user_name
		WHERE $1 = '' OR u.agency = $1 ORDER BY l.locked_at`, p.Agency)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Lockout{}
	for rows.Next() {
		var l Lockout
		var at store.NullTime
		if err := rows.Scan(&l.User, &at, &l.Results); err != nil {
			return nil, err
		}
		l.LockedAt = at.Time
		out = append(out, l)
	}
	return out, rows.Err()
}

// Unlock lets a user run queries again; administrators only, with a reason that is audited.
func (w *Warehouse) Unlock(ctx context.Context, p access.Principal, user, reason string) error {
	if err := access.Check(p, access.UnlockAccount, access.Project{}); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) < 5 || len(reason) > 500 {
		return fmt.Errorf("%w: give a reason for the unlock (5 to 500 characters)", derrors.Invalid)
	}
	if p.Agency != "" {
		if u, err := w.Access.User(ctx, user); err != nil || u.Agency != p.Agency {
			return fmt.Errorf("%w: no query lockout of %s", derrors.NotFound, user)
		}
	}
	res, err := w.DB.ExecContext(ctx, `DELETE FROM query_lockouts WHERE user_name = $1`, user)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: no query lockout of %s", derrors.NotFound, user)
	}
	return w.Access.Record(ctx, p, "warehouse.unlock", "user/"+user, map[string]string{"reason": reason})
}

// tellLockout emails the directors that p was locked out of queries (issue 6's notice; ids
// and dates only, never a count).
func (w *Warehouse) tellLockout(ctx context.Context, st Settings, p access.Principal, project string, at time.Time) {
	subject := fmt.Sprintf("Steward: %q locked out of cohort queries", p.User)
	body := fmt.Sprintf("Steward locked the account %q out of cohort queries at %s: its obfuscated answers\n"+
		"reached the lockout's limit of %s, the last in project %s.\n\n"+
		"Queries stay refused until an administrator unlocks it, giving a reason:\n"+
		"  POST /api/v1/warehouse/lockouts/%s/unlock {\"reason\": \"…\"}\n",
		p.User, at.UTC().Format(time.RFC3339), w.lockoutRule(st), project, p.User)
	w.Access.NotifyDirectors(ctx, p.Source, "query-lockout/"+p.User, "query-lockout/"+p.User, subject, body)
}
