// Package warehouse is Steward's research warehouse: i2b2's star schema in the application
// store, cohort queries, and what each data-protection role gets back.
//
// The model. Facts (observation_fact) say that a patient had a concept (a diagnosis code, a
// lab test with its numeric value, a demographic) at a visit on a date. Concepts sit in a tree
// (concept_dimension.concept_path, "\i2b2\Diagnoses\ICD10\E\E11\E11.9\"); naming a folder
// in a query means every concept under it. Every row carries the agency it belongs to, and a
// query sees only the rows of its project's agency (or, for a site project, the asker's).
// The *_blob columns are sealed with AES-GCM under a key kept outside the database (package
// seal); identified data (name, record number, address) lives in its own sealed table,
// patient_identity, and is opened only for DATA_PROT.
//
// The parts, each a package of its own: schema (the tables and columns), seal (the key),
// load (appending rows, from CSV or any Source), synthetic (a made-up warehouse), querydef
// (i2b2's query language: the model, JSON and XML, normalisation), cohort (the patients of a
// definition, and breakdowns), noise (obfuscated counts), budget (the privacy budget of
// obfuscated counts and the guarantee it gives). This package puts them together: an answer
// (answer.go) is stored like i2b2's (query master, instance, result instance with shown size,
// real size and obfuscation method), the obfuscation settings (settings.go) and budgets
// (budgets.go), the lockout rule (lockout.go), stored queries (stored.go), the concept tree
// and its totalnums (concepts.go), patient-level reads (pdo.go), the governance gate
// (gate.go), the individual-access source (person.go) and retention.
//
// What comes back depends on the role (access.Allowed decides): DATA_OBFSC gets counts with
// noise — by default keyed by the question and the data and spent from a privacy budget per
// user, project and period (package budget states the guarantee: with the defaults, 20 new
// counts per 30 days, and no estimate of a count better than a spread of 2.24), every total of
// 3 or fewer patients or under the threshold given the same answer, and is locked out of
// queries after 7 runs of the same query; DATA_AGG exact counts and breakdowns; DATA_LDS
// patient-level data without blobs; DATA_DEID with blobs; DATA_PROT with identified data.
// i2b2's own noise (fresh on every run, no budget, the lockout on equal real counts) is a
// setting, documented as weaker. Every answer, read and refusal is audited with counts and
// ids, never values.
//
// Governance (issue 9) comes first: before a count or a patient-level read, the gate (Gate,
// see gate.go) asks whether the project may analyse the agencies' data at all — an approved
// ethics application, or a single agency's own evaluation — and which agencies and regions
// consent; the patients of agencies left out and clients who withdrew their consent are taken
// out of the cohort, and the answer says so.
package warehouse

import (
	"context"
	"database/sql"
	"sync/atomic"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// Warehouse answers cohort queries and patient-level reads over the store.
type Warehouse struct {
	DB     *store.DB
	Access *access.Service
	Keys   *seal.Keys
	// Settings apply until an administrator saves settings (SaveSettings); then the stored
	// ones do (CurrentSettings).
	Settings Settings
	// Gate is issue 9's governance: whose data an analysis may read (ethics approval,
	// agency, region and client consent). New sets it over the same store.
	Gate *governance.Service

	// No lock is held around an answer's evaluation: the cohort caches and the gate's are safe
	// for concurrent readers; what must be serialised (the lockout's count, the budget, the
	// query store) is, in the answer's transaction (see serialise).
	cohorts *cohort.Evaluator         // the patients of query definitions, cached per load
	gates   atomic.Pointer[gateCache] // agencies and their patients, for the gate
}

// New returns a warehouse with the default settings (budget mode) until settings are saved.
func New(db *store.DB, svc *access.Service, keys *seal.Keys) *Warehouse {
	return &Warehouse{DB: db, Access: svc, Keys: keys, Settings: DefaultSettings(), Gate: governance.New(db, governance.Config{}),
		cohorts: cohort.New(db)}
}

// txExec runs the constant statement q in tx, prepared once for the store.
func txExec(ctx context.Context, db *store.DB, tx *sql.Tx, q string, args ...any) error {
	st, err := db.TxStmt(ctx, tx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// txQueryRow runs the constant query q in tx, prepared once for the store.
func txQueryRow(ctx context.Context, db *store.DB, tx *sql.Tx, q string, args ...any) *sql.Row {
	st, err := db.TxStmt(ctx, tx, q)
	if err != nil {
		return tx.QueryRowContext(ctx, q, args...) // the same error, from the row
	}
	return st.QueryRowContext(ctx, args...)
}
