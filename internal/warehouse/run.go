package warehouse

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
)

// ResultType is i2b2's name of the patient count result.
const ResultType = "PATIENT_COUNT_XML"

// Answer is what a user is told of a cohort query.
type Answer struct {
	QueryID    string `json:"query_id"` // the query master
	InstanceID string `json:"instance_id"`
	ResultID   string `json:"result_id"`
	Name       string `json:"name,omitempty"`
	ResultType string `json:"result_type"`
	Count      int64  `json:"count"`            // the set size shown
	Shown      string `json:"shown"`            // how it is written: "1234", "1236±3", "< 3"
	Method     string `json:"obfuscate_method"` // "" for exact; OBTOTAL (i2b2's name) when noised
	Noise      string `json:"noise,omitempty"`  // consistent or i2b2, when noised
	// Breakdowns by sex, age band, race and vital status (cells noised with σ 1.6 when the
	// count is, i2b2's OBSUBTOTAL).
	Breakdowns map[string]map[string]int64 `json:"breakdowns,omitempty"`
	Locked     bool                        `json:"locked,omitempty"` // this answer locked the account for queries
	// Governance says whose data entered the answer when agencies' data is read under
	// issue 9's gate: the basis, the agencies, and how many agencies and clients were left out.
	Governance *Admission `json:"governance,omitempty"`
	Created    time.Time  `json:"created"`
}

// project returns the project if p may see it, and the agency whose rows its queries see
// ("" for every agency; admit cuts a district's reads to its agencies).
func (w *Warehouse) project(ctx context.Context, p access.Principal, code string) (access.Project, string, error) {
	x, err := w.Access.Project(ctx, p, code)
	if err != nil {
		return x, "", err
	}
	if x.Agency != "" {
		return x, x.Agency, nil
	}
	// A project of the whole site reads what the user's access level covers (issue 18): their
	// own agency, their district (every agency, then cut to the district by admit), or all.
	agency, _ := p.DataScope()
	return x, agency, nil
}

func newID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Run answers a cohort query in a project as p's role allows, stores it as i2b2 does, applies
// the lockout to obfuscated users and audits the answer.
func (w *Warehouse) Run(ctx context.Context, p access.Principal, projectCode string, q Query) (Answer, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return Answer{}, err
	}
	exact := access.Allowed(p, access.ExactCount, x)
	if !exact {
		if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
			return Answer{}, err
		}
		if at, err := w.lockedSince(ctx, p.User); err != nil || !at.IsZero() {
			if err == nil { // the refused attempt is audited
				err = errors.Join(fmt.Errorf("%w: %s may not run queries since %s (too many results with the same count); an administrator can unlock", derrors.Locked, p.User, at.Format(time.DateOnly)),
					w.Access.Record(ctx, p, "warehouse.query_refused", "project/"+x.Code, map[string]string{"reason": "locked out of queries", "locked_at": store.FormatTime(at)}))
			}
			return Answer{}, err
		}
	}
	if err := q.Normalize(); err != nil {
		return Answer{}, err
	}
	w.mu.Lock()
	s, err := w.scope(ctx, agency)
	var adm admission
	var cohort *roaring.Bitmap
	var bd map[string]map[string]int64
	if err == nil {
		adm, err = w.admit(ctx, p, x, agency, AnalysisCount)
	}
	if err == nil {
		cohort, err = w.evaluate(ctx, s, q)
	}
	if err == nil {
		cohort = adm.apply(cohort)
		bd, err = w.breakdowns(ctx, s, cohort)
	}
	w.mu.Unlock()
	if err != nil {
		return Answer{}, err
	}
	real := int64(cohort.GetCardinality())
	a := Answer{QueryID: newID("qm-"), InstanceID: newID("qi-"), ResultID: newID("qr-"), Name: q.Name, ResultType: ResultType,
		Count: real, Shown: strconv.FormatInt(real, 10), Breakdowns: bd, Created: time.Now().UTC().Truncate(time.Microsecond),
		Governance: adm.shown()}
	if !exact {
		a.Method, a.Noise = "OBTOTAL", string(w.Settings.Noise)
		z := w.z(agency, ResultType, cohort)
		a.Count = obfuscate(real, w.Settings.Minimum, w.Settings.Sigma, z)
		a.Shown = shown(a.Count, w.Settings.Minimum)
		for dim, cells := range bd {
			for cell, n := range cells {
				cells[cell] = obfuscate(n, w.Settings.Minimum, w.Settings.BreakdownSigma, w.z(agency, "breakdown/"+dim+"/"+cell, cohort))
			}
		}
	}
	def, _ := json.Marshal(q)
	now := store.FormatTime(a.Created)
	// The query is stored, the lockout applied and the answer audited in one transaction.
	save := func(tx *sql.Tx) error {
		err := txExec(ctx, w.DB, tx, `INSERT INTO qt_query_master (query_master_id, project, user_name, name, definition, canonical, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.QueryID, x.Code, p.User, q.Name, string(def), q.Canonical(), now)
		if err == nil {
			err = txExec(ctx, w.DB, tx, `INSERT INTO qt_query_instance (query_instance_id, query_master_id, user_name, status, start_date, end_date)
				VALUES ($1, $2, $3, 'FINISHED', $4, $4)`, a.InstanceID, a.QueryID, p.User, now)
		}
		if err == nil {
			err = txExec(ctx, w.DB, tx, `INSERT INTO qt_query_result_instance (result_instance_id, query_instance_id, user_name, result_type,
				set_size, real_set_size, obfuscation_method, shown, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
				a.ResultID, a.InstanceID, p.User, a.ResultType, a.Count, real, a.Method, a.Shown, now)
		}
		if err != nil || exact || real == 0 && !w.Settings.LockoutZeros {
			return err
		}
		// i2b2's lockout: the user's obfuscated results of this type with this real count.
		var n int
		since := store.FormatTime(a.Created.AddDate(0, 0, -w.Settings.LockoutDays))
		if err := txQueryRow(ctx, w.DB, tx, `SELECT COUNT(*) FROM qt_query_result_instance WHERE user_name = $1 AND result_type = $2
			AND real_set_size = $3 AND obfuscation_method <> '' AND created_at >= $4`, p.User, a.ResultType, real, since).Scan(&n); err != nil {
			return err
		}
		if n < w.Settings.LockoutCount {
			return nil
		}
		a.Locked = true
		err = txExec(ctx, w.DB, tx, `INSERT INTO query_lockouts (user_name, locked_at, results) VALUES ($1, $2, $3) ON CONFLICT (user_name) DO NOTHING`, p.User, now, n)
		return err
	}
	detail := map[string]string{"result": a.ResultID, "count": strconv.FormatInt(a.Count, 10), "method": cmpOr(a.Method, "exact"),
		"panels": strconv.Itoa(len(q.Panels))}
	adm.audit(detail)
	err = w.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := save(tx)
		if err == nil {
			err = w.Access.RecordTx(ctx, tx, p, "warehouse.query", "project/"+x.Code+"/query/"+a.QueryID, detail)
		}
		if err == nil && a.Locked {
			err = w.Access.RecordTx(ctx, tx, p, "warehouse.lockout", "user/"+p.User, map[string]string{"result": a.ResultID, "same_count_results": strconv.Itoa(w.Settings.LockoutCount)})
		}
		return err
	})
	if err != nil {
		return Answer{}, fmt.Errorf("store query: %w", err)
	}
	if a.Locked {
		w.tellLockout(ctx, p, x.Code, a.Created)
	}
	return a, nil
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// z is the noise draw for one count of a cohort: keyed by the cohort itself (its patients, the
// scope and what is counted) in consistent mode, fresh in i2b2's.
func (w *Warehouse) z(agency, what string, cohort *roaring.Bitmap) float64 {
	if w.Settings.Noise == I2B2 {
		return randomZ()
	}
	m := hmac.New(sha256.New, w.Keys.noise)
	var buf [4]byte
	it := cohort.Iterator()
	for it.HasNext() {
		binary.LittleEndian.PutUint32(buf[:], it.Next())
		m.Write(buf[:])
	}
	return keyedZ(w.Keys.noise, agency, what, string(m.Sum(nil)))
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

// stored is a query the user ran in the project, read back.
func (w *Warehouse) stored(ctx context.Context, p access.Principal, x access.Project, id string) (Query, Answer, error) {
	var def string
	var a Answer
	var created store.NullTime
	err := w.DB.QueryRowContext(ctx, `SELECT m.definition, m.name, i.query_instance_id, r.result_instance_id, r.result_type, r.set_size,
		r.shown, r.obfuscation_method, r.created_at FROM qt_query_master m JOIN qt_query_instance i ON i.query_master_id = m.query_master_id
		JOIN qt_query_result_instance r ON r.query_instance_id = i.query_instance_id
		WHERE m.query_master_id = $1 AND m.project = $2 AND m.user_name = $3`, id, x.Code, p.User).
		Scan(&def, &a.Name, &a.InstanceID, &a.ResultID, &a.ResultType, &a.Count, &a.Shown, &a.Method, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Query{}, Answer{}, fmt.Errorf("%w: query %s", derrors.NotFound, id)
	}
	if err != nil {
		return Query{}, Answer{}, err
	}
	a.QueryID, a.Created = id, created.Time
	var q Query
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

// Concept is a node of the concept tree.
type Concept struct {
	Path string `json:"path"`
	Code string `json:"code"`
	Name string `json:"name"`
	Leaf bool   `json:"leaf"`
}

// Children lists the concepts directly under parent (`\` lists the roots) that the project's
// queries can see.
func (w *Warehouse) Children(ctx context.Context, p access.Principal, projectCode, parent string) ([]Concept, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return nil, err
	}
	if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(parent, `\`) {
		parent += `\`
	}
	rows, err := w.DB.QueryContext(ctx, `SELECT DISTINCT concept_path, concept_cd, name_char FROM concept_dimension
		WHERE substr(concept_path, 1, $1) = $2 AND concept_path <> $2 AND (agency = '' OR $3 = '' OR agency = $3)`, len(parent), parent, agency)
	if err != nil {
		return nil, fmt.Errorf("concept_dimension: %w", err)
	}
	defer rows.Close()
	var all []Concept
	for rows.Next() {
		var c Concept
		if err := rows.Scan(&c.Path, &c.Code, &c.Name); err != nil {
			return nil, err
		}
		all = append(all, c)
	}
	out := []Concept{}
	for _, c := range all {
		rest := strings.TrimSuffix(c.Path[len(parent):], `\`)
		if rest == "" || strings.Contains(rest, `\`) {
			continue
		}
		c.Leaf = !slices.ContainsFunc(all, func(o Concept) bool { return len(o.Path) > len(c.Path) && strings.HasPrefix(o.Path, c.Path) })
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Concept) int { return strings.Compare(a.Path, b.Path) })
	return out, rows.Err()
}
