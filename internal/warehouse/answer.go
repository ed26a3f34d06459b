package warehouse

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
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
func (w *Warehouse) Run(ctx context.Context, p access.Principal, projectCode string, q querydef.Query) (Answer, error) {
	x, agency, err := w.project(ctx, p, projectCode)
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
	if err := q.Normalize(); err != nil {
		return Answer{}, err
	}
	w.mu.Lock()
	s, err := w.cohorts.Scope(ctx, agency)
	var adm admission
	var patients *roaring.Bitmap
	var bd map[string]map[string]int64
	if err == nil {
		adm, err = w.admit(ctx, p, x, agency, AnalysisCount)
	}
	if err == nil {
		patients, err = s.Patients(ctx, q)
	}
	if err == nil {
		patients = adm.apply(patients)
		bd, err = s.Breakdowns(ctx, patients)
	}
	w.mu.Unlock()
	if err != nil {
		return Answer{}, err
	}
	real := int64(patients.GetCardinality())
	a := Answer{QueryID: newID("qm-"), InstanceID: newID("qi-"), ResultID: newID("qr-"), Name: q.Name, ResultType: ResultType,
		Count: real, Shown: strconv.FormatInt(real, 10), Breakdowns: bd, Created: time.Now().UTC().Truncate(time.Microsecond),
		Governance: adm.shown()}
	if !exact {
		a.Method, a.Noise = "OBTOTAL", string(w.Settings.Noise)
		z := w.z(agency, ResultType, patients)
		a.Count = noise.Obfuscate(real, w.Settings.Minimum, w.Settings.Sigma, z)
		a.Shown = noise.Shown(a.Count, w.Settings.Minimum)
		for dim, cells := range bd {
			for cell, n := range cells {
				cells[cell] = noise.Obfuscate(n, w.Settings.Minimum, w.Settings.BreakdownSigma, w.z(agency, "breakdown/"+dim+"/"+cell, patients))
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
		if err != nil || exact {
			return err
		}
		a.Locked, err = w.lockout(ctx, tx, p, a, real)
		return err
	}
	detail := map[string]string{"result": a.ResultID, "count": strconv.FormatInt(a.Count, 10), "method": cmp.Or(a.Method, "exact"),
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

// z is the noise draw for one count of a cohort (package noise).
func (w *Warehouse) z(agency, what string, cohort *roaring.Bitmap) float64 {
	return noise.Z(w.Settings.Noise, w.Keys.NoiseKey(), agency, what, cohort)
}
