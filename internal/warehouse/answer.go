package warehouse

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
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
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
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
	Count      int64  `json:"count"`            // the set size shown (0 when below the threshold)
	Shown      string `json:"shown"`            // how it is written: "1234", "1250±20", "< 60"; i2b2's "1236±3", "< 3"
	Method     string `json:"obfuscate_method"` // "" for exact; OBTOTAL (i2b2's name) when noised
	Noise      string `json:"noise,omitempty"`  // budget or i2b2, when noised
	// Breakdowns by sex, age band, race and vital status. Exact counts get every dimension's
	// cells that hold patients. Obfuscated in budget mode: the dimensions asked for, every cell
	// of the scope noised and thresholded (0: below the threshold), none when the total is
	// below it. In i2b2's mode: every dimension, cells noised with σ 1.6 (OBSUBTOTAL).
	Breakdowns map[string]map[string]int64 `json:"breakdowns,omitempty"`
	Locked     bool                        `json:"locked,omitempty"` // this answer locked the account for queries
	// Budget is an obfuscated user's account after this answer (budget mode): what it cost,
	// what is spent and left in the period, and when the period ends.
	Budget *budget.State `json:"budget,omitempty"`
	// Notes say what of the definition was read and has no effect, as in i2b2 (see querydef).
	Notes []string `json:"notes,omitempty"`
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

// Dimensions are the breakdowns' dimensions.
var Dimensions = []string{"sex", "age", "race", "vital_status"}

// RunOptions ask for more than a count.
type RunOptions struct {
	// Breakdowns names the breakdown dimensions wanted ("sex", "age", "race", "vital_status",
	// or "all"). DATA_AGG and higher roles, and i2b2's mode, get every dimension whatever is
	// asked; an obfuscated user in budget mode gets the dimensions asked for, each spending
	// from the budget like a count (unless the settings withhold breakdowns: then asking is
	// refused).
	Breakdowns []string
}

// Run answers a cohort query with no breakdowns asked for (see RunWith).
func (w *Warehouse) Run(ctx context.Context, p access.Principal, projectCode string, q querydef.Query) (Answer, error) {
	return w.RunWith(ctx, p, projectCode, q, RunOptions{})
}

// RunWith answers a cohort query in a project as p's role allows, stores it as i2b2 does,
// spends an obfuscated user's budget, applies the lockout and audits the answer. Every
// refusal is audited.
func (w *Warehouse) RunWith(ctx context.Context, p access.Principal, projectCode string, q querydef.Query, o RunOptions) (Answer, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return Answer{}, err
	}
	st, err := w.CurrentSettings(ctx)
	if err != nil {
		return Answer{}, err
	}
	exact := access.Allowed(p, access.ExactCount, x)
	if !exact {
		if err := access.Check(p, access.ObfuscatedCount, x); err != nil {
			return Answer{}, err
		}
		if err := w.refuseLocked(ctx, p, x); err != nil {
			return Answer{}, err
		}
	}
	dims, err := w.dimensions(ctx, p, x, st, exact, o.Breakdowns)
	if err != nil {
		return Answer{}, err
	}
	if err := q.Normalize(); err != nil {
		return Answer{}, err
	}
	s, err := w.cohorts.Scope(ctx, agency)
	var gen int64
	if err == nil {
		gen = s.Generation()
	}
	var adm admission
	var patients *roaring.Bitmap
	var bd map[string]map[string]int64
	var vocabulary map[string][]string
	if err == nil {
		adm, err = w.admit(ctx, p, x, s.Generation(), agency, AnalysisCount)
	}
	if err == nil {
		patients, err = s.Patients(ctx, q, w.resolver(p, x))
	}
	if err == nil {
		patients = adm.apply(patients)
		if len(dims) > 0 {
			bd, err = s.Breakdowns(ctx, patients)
			vocabulary = s.Cells()
		}
	}
	if err != nil {
		return Answer{}, err
	}
	real := int64(patients.GetCardinality())
	a := Answer{QueryID: newID("qm-"), InstanceID: newID("qi-"), ResultID: newID("qr-"), Name: q.Name, ResultType: ResultType,
		Count: real, Shown: strconv.FormatInt(real, 10), Breakdowns: bd, Created: time.Now().UTC().Truncate(time.Microsecond),
		Governance: adm.shown(), Notes: q.Notes}
	var k question
	if !exact {
		a.Method, a.Noise = "OBTOTAL", string(st.Noise)
		switch st.Noise {
		case noise.I2B2:
			a.Count = noise.Obfuscate(real, st.Minimum, st.Sigma, noise.RandomZ())
			a.Shown = noise.Shown(a.Count, st.Minimum)
			for _, cells := range bd {
				for cell, n := range cells {
					cells[cell] = noise.Obfuscate(n, st.Minimum, st.BreakdownSigma, noise.RandomZ())
				}
			}
		default:
			k = w.question(st, x.Code, gen, adm, q.Canonical())
			a.Count, a.Shown, a.Breakdowns = k.total(st, real, dims, bd, vocabulary)
		}
	}
	def, _ := json.Marshal(q)
	now := store.FormatTime(a.Created)
	// The budget is spent (and what the user was told before is told again), the query
	// stored, the lockout applied and the answer audited in one transaction.
	save := func(tx *sql.Tx) error {
		if !exact {
			// One answer of the user at a time from here to commit, and none once locked.
			if err := w.serialise(ctx, tx, p.User); err != nil {
				return err
			}
			if err := w.lockedIn(ctx, tx, p.User); err != nil {
				return err
			}
		}
		if k.noise != nil {
			state, err := budget.Spend(ctx, w.DB, tx, st.account(p, x.Code, a.Created), k.releases(st, dims, a), st.countCost())
			if err != nil {
				return err
			}
			a.Budget = &state
			if err := k.replay(&a, state, dims); err != nil {
				return err
			}
		}
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
		if err != nil || exact {
			return err
		}
		a.Locked, err = w.lockout(ctx, tx, st, p, x, a, real, q.Canonical())
		return err
	}
	err = w.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := save(tx)
		if err != nil {
			return err
		}
		detail := map[string]string{"result": a.ResultID, "count": strconv.FormatInt(a.Count, 10), "method": cmp.Or(a.Method, "exact"),
			"panels": strconv.Itoa(len(q.Panels))}
		if len(a.Breakdowns) > 0 {
			detail["breakdowns"] = strings.Join(dims, " ")
		}
		if a.Budget != nil {
			detail["cost"] = strconv.FormatFloat(a.Budget.Cost, 'g', 6, 64)
		}
		adm.audit(detail)
		err = w.Access.RecordTx(ctx, tx, p, "warehouse.query", "project/"+x.Code+"/query/"+a.QueryID, detail)
		if err == nil && a.Locked {
			err = w.Access.RecordTx(ctx, tx, p, "warehouse.lockout", "user/"+p.User, map[string]string{"result": a.ResultID, "rule": w.lockoutRule(st)})
		}
		return err
	})
	if le := (errLockedIn{}); errors.As(err, &le) {
		return Answer{}, w.refusedLocked(ctx, p, x, le.at)
	}
	if errors.Is(err, budget.ErrSpent) {
		return Answer{}, errors.Join(err, w.Access.Record(ctx, p, "warehouse.budget_refused", "project/"+x.Code,
			map[string]string{"reason": "privacy budget spent", "new_counts": strconv.Itoa(newCounts(dims)), "panels": strconv.Itoa(len(q.Panels))}))
	}
	if err != nil {
		return Answer{}, fmt.Errorf("store query: %w", err)
	}
	if a.Locked {
		w.tellLockout(ctx, st, p, x.Code, a.Created)
	}
	return a, nil
}

// newCounts is how many counts an answer with these breakdown dimensions tells.
func newCounts(dims []string) int { return 1 + len(dims) }

// dimensions are the breakdown dimensions an answer gives: every one to exact counts and in
// i2b2's mode; those asked for in the budget mode, refused (and audited) when the settings
// withhold them.
func (w *Warehouse) dimensions(ctx context.Context, p access.Principal, x access.Project, st Settings, exact bool, asked []string) ([]string, error) {
	if exact || st.Noise == noise.I2B2 {
		return Dimensions, nil
	}
	var out []string
	for _, d := range asked {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "":
		case d == "all":
			out = append(out, Dimensions...)
		case slices.Contains(Dimensions, d):
			out = append(out, d)
		default:
			return nil, fmt.Errorf("%w: breakdown %q (want sex, age, race, vital_status or all)", derrors.Invalid, d)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && st.Breakdowns == BreakdownsWithheld {
		return nil, errors.Join(fmt.Errorf("%w: breakdowns are withheld from obfuscated counts on this server (setting breakdowns: withheld); ask for the count alone", derrors.Forbidden),
			w.Access.Record(ctx, p, "warehouse.query_refused", "project/"+x.Code, map[string]string{"reason": "breakdowns withheld", "breakdowns": strings.Join(out, " ")}))
	}
	return out, nil
}

// question is the keyed noise of one question about one version of the data in a project
// (budget mode): its draws and the keys its releases are recorded under.
type question struct {
	noise   []byte
	release string
}

// question derives the key of a question: the warehouse's noise key, the project and the
// epoch; the load generation and the patients the gate takes out (the data's version); the
// query's canonical meaning. Never the cohort's patients: see package noise.
func (w *Warehouse) question(st Settings, project string, gen int64, adm admission, canonical string) question {
	pk := noise.Key(w.Keys.NoiseKey(), "budget", project, strconv.Itoa(st.Epoch))
	k := noise.Key(pk, "data", strconv.FormatInt(gen, 10), adm.digest(), "question", canonical)
	r := noise.Key(k, "release")
	return question{noise: k, release: hex.EncodeToString(r[:16])}
}

// total is the answer's shown count and breakdowns: below the threshold (or at most the
// minimum) the same shape whatever the count — 0, "< T", no breakdowns; otherwise the noisy
// count and, for each dimension asked, every cell of the scope noised and thresholded.
func (k question) total(st Settings, real int64, dims []string, bd map[string]map[string]int64, vocabulary map[string][]string) (int64, string, map[string]map[string]int64) {
	n := noise.Release(real, st.Minimum, st.Threshold, st.Sigma, noise.KeyedZ(k.noise, "total"))
	shown := noise.ShownBudget(n, st.Threshold, st.Sigma)
	if n == 0 || len(dims) == 0 {
		return n, shown, nil
	}
	out := map[string]map[string]int64{}
	for _, dim := range dims {
		out[dim] = map[string]int64{}
		for _, cell := range vocabulary[dim] {
			out[dim][cell] = noise.Cell(bd[dim][cell], st.Threshold, st.BreakdownSigma, noise.KeyedZ(k.noise, "breakdown", dim, cell))
		}
	}
	return n, shown, out
}

// told is what one release of an answer showed, as stored with it.
type told struct {
	Count int64            `json:"count"`
	Shown string           `json:"shown,omitempty"`
	Cells map[string]int64 `json:"cells,omitempty"`
}

// releases are what an answer to the question tells, with their costs and what each shows:
// the total and each breakdown dimension asked — whether or not the total is shown, so that
// the cost never depends on the data (a dimension hidden with its total shows nothing).
func (k question) releases(st Settings, dims []string, a Answer) []budget.Release {
	shown := func(t told) string { b, _ := json.Marshal(t); return string(b) }
	rs := []budget.Release{{Key: k.release + "/total", Cost: st.countCost(), Shown: shown(told{Count: a.Count, Shown: a.Shown})}}
	for _, d := range dims {
		rs = append(rs, budget.Release{Key: k.release + "/" + d, Cost: st.dimensionCost(), Shown: shown(told{Cells: a.Breakdowns[d]})})
	}
	return rs
}

// replay puts back into the answer what the user was told before of the same releases: the
// same question about the same data version gets the same answer, even where the count has
// drifted since (ages computed on the day of the query) — recomputed under the same noise,
// the difference would be exact. A total told hidden hides every breakdown with it.
func (k question) replay(a *Answer, state budget.State, dims []string) error {
	read := func(key string) (told, bool, error) {
		s, ok := state.Told(key)
		var t told
		if ok {
			if err := json.Unmarshal([]byte(s), &t); err != nil {
				return t, false, fmt.Errorf("obfsc_releases %s: %w", key, err)
			}
		}
		return t, ok, nil
	}
	t, ok, err := read(k.release + "/total")
	if err != nil {
		return err
	}
	if ok {
		a.Count, a.Shown = t.Count, t.Shown
	}
	if a.Count == 0 {
		a.Breakdowns = nil
		return nil
	}
	for _, d := range dims {
		t, ok, err := read(k.release + "/" + d)
		if err != nil {
			return err
		}
		if ok && t.Cells != nil { // told with its total shown: the same cells again
			if a.Breakdowns == nil {
				a.Breakdowns = map[string]map[string]int64{}
			}
			a.Breakdowns[d] = t.Cells
		}
	}
	return nil
}
