package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// rows is a Source of fixed rows.
type rows [][]any

func (r *rows) Next() ([]any, error) {
	if len(*r) == 0 {
		return nil, io.EOF
	}
	x := (*r)[0]
	*r = (*r)[1:]
	return x, nil
}

// patientTables are a synthetic warehouse's per-patient tables (its concepts are north's).
func patientTables(g synthetic.Warehouse) []load.Input {
	var in []load.Input
	for _, x := range g.Inputs() {
		switch x.Table {
		case "patient_dimension", "visit_dimension", "observation_fact", "patient_identity":
			in = append(in, x)
		}
	}
	return in
}

// Issue 16's data validator (seed 003), attacked as an analyst would notice it: a load
// staged for review changes nothing an analyst of the project gets — count, breakdowns,
// totalnums — until a validator approves it; then the analyst's count grows by exactly the
// batch's patients; a rejected batch never appears. Only a validator whose project covers
// the batch's agency reviews it; a batch whose keys the warehouse already holds is shown
// with its rejected rows and cannot be approved.
func TestValidatorBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, users := world(t, db)
		s := w.Access
		for _, v := range []struct{ name, agency, project string }{{"vera", "north", "diab"}, {"vic", "south", "south-eval"}} {
			if v.project != "diab" {
				must(t, s.CreateProject(ctx, root, access.Project{Code: v.project, Name: "South evaluation", Agency: v.agency}))
			}
			must(t, s.CreateUser(ctx, root, access.User{Name: v.name, Agency: v.agency}, "correct horse battery"))
			must(t, s.Grant(ctx, root, v.name, v.project, access.DataValidator))
			p, err := s.Principal(ctx, v.name, "test")
			must(t, err)
			users[v.name] = p
		}
		vera, agg := users["vera"], users["agg"]
		everyone := querydef.Query{Panels: []querydef.Panel{panel(item(`\i2b2\Demographics\`))}}
		type seen struct {
			count      int64
			breakdowns string
			totalnums  string
		}
		look := func() seen {
			t.Helper()
			a, err := w.Run(ctx, agg, "diab", everyone)
			must(t, err)
			cs, err := w.ChildrenCounted(ctx, agg, "diab", `\i2b2\Diagnoses\ICD10\`)
			must(t, err)
			var tn []int64
			for _, c := range cs {
				if c.Totalnum != nil {
					tn = append(tn, *c.Totalnum)
				}
			}
			return seen{a.Count, fmt.Sprint(a.Breakdowns), fmt.Sprint(tn)}
		}
		without := look()
		if without.count != north.Patients {
			t.Fatalf("before any batch: %d patients, want north's %d", without.count, north.Patients)
		}

		extra := synthetic.Warehouse{Seed: 31, First: 200000, Patients: 40}
		r, err := load.RunBatch(ctx, db, testKey, patientTables(extra), load.Options{Agency: "north", Review: true, By: "loader"})
		must(t, err)
		if !r.Pending || r.Rows == 0 {
			t.Fatalf("review load: %+v, want a pending batch of rows", r)
		}
		if got := look(); got != without {
			t.Errorf("pending batch seen by the analyst:\n got %+v\nwant %+v (as without the batch)", got, without)
		}

		// Who reviews: the analyst is refused; south's validator does not see north's batch.
		if _, err := w.ReviewBatch(ctx, agg, "diab", r.Batch, 5); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("analyst reviewing a batch: got %v, want forbidden", err)
		}
		if _, err := w.ReviewBatch(ctx, users["vic"], "south-eval", r.Batch, 5); !errors.Is(err, derrors.NotFound) {
			t.Errorf("south's validator reviewing north's batch: got %v, want not found", err)
		}
		if _, err := w.DecideBatch(ctx, users["vic"], "south-eval", r.Batch, true, "looks fine to me"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("south's validator approving north's batch: got %v, want not found", err)
		}
		bs, err := w.Batches(ctx, users["vic"], "south-eval")
		must(t, err)
		for _, b := range bs {
			if b.ID == r.Batch {
				t.Errorf("south's validator lists north's batch %d", b.ID)
			}
		}

		rev, err := w.ReviewBatch(ctx, vera, "diab", r.Batch, 3)
		must(t, err)
		counts := map[string]int64{}
		for _, c := range rev.Counts {
			if c.Agency != "north" && c.Table != "ontology" { // the demographic entries a load adds are the site's
				t.Errorf("count of %s for agency %q, want north", c.Table, c.Agency)
			}
			counts[c.Table] += c.Rows
		}
		if counts["patient_dimension"] != extra.Patients || counts["patient_identity"] != extra.Patients || counts["observation_fact"] == 0 {
			t.Errorf("review counts %v: want %d patients and identities and some facts", counts, extra.Patients)
		}
		if len(rev.Rejected) != 0 {
			t.Errorf("a batch of new patients has rejected rows: %+v", rev.Rejected)
		}
		if got := rev.Sample["patient_dimension"]; len(got) != 3 || got[0]["patient_blob"] != "(sealed)" || fmt.Sprint(got[0]["patient_num"]) != "200001" {
			t.Errorf("sample of patient_dimension: %v, want the 3 first rows from 200001 with the blob sealed", got)
		}
		if _, ok := rev.Sample["patient_identity"]; ok {
			t.Errorf("the validator's sample holds identified data")
		}

		// Approved: the analyst's count grows by the batch's patients.
		if _, err := w.DecideBatch(ctx, vera, "diab", r.Batch, false, "x"); !errors.Is(err, derrors.Invalid) {
			t.Errorf("decision without a reason: got %v, want invalid", err)
		}
		b, err := w.DecideBatch(ctx, vera, "diab", r.Batch, true, "counts match the sender's")
		must(t, err)
		if b.Status != load.Approved || b.DecidedBy != "vera" {
			t.Errorf("approved batch: %+v", b)
		}
		with := look()
		if with.count != north.Patients+extra.Patients || with.totalnums == without.totalnums {
			t.Errorf("after approval: %+v, want %d patients and other totalnums", with, north.Patients+extra.Patients)
		}
		if _, err := w.DecideBatch(ctx, vera, "diab", r.Batch, false, "changed my mind"); !errors.Is(err, derrors.Conflict) {
			t.Errorf("deciding an approved batch again: got %v, want conflict", err)
		}

		// Rejected: never appears, and its staged rows are gone.
		more := synthetic.Warehouse{Seed: 32, First: 300000, Patients: 25}
		r2, err := load.RunBatch(ctx, db, testKey, patientTables(more), load.Options{Agency: "north", Review: true})
		must(t, err)
		_, err = w.DecideBatch(ctx, vera, "diab", r2.Batch, false, "wrong extraction date")
		must(t, err)
		if got := look(); got != with {
			t.Errorf("rejected batch seen by the analyst:\n got %+v\nwant %+v", got, with)
		}
		var staged int64
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM staged_observation_fact WHERE batch_id = $1`, r2.Batch).Scan(&staged))
		if staged != 0 {
			t.Errorf("a rejected batch keeps %d staged facts", staged)
		}

		// Rejected rows: a batch of patients already in the warehouse cannot be approved.
		r3, err := load.RunBatch(ctx, db, testKey, patientTables(extra), load.Options{Agency: "north", Review: true})
		must(t, err)
		rev, err = w.ReviewBatch(ctx, vera, "diab", r3.Batch, 0)
		must(t, err)
		rej := map[string]int64{}
		for _, c := range rev.Rejected {
			rej[c.Table] = c.Rows
		}
		if rej["patient_dimension"] != extra.Patients || rej["patient_identity"] != extra.Patients {
			t.Errorf("rejected rows of a batch loaded twice: %v, want %d patients and identities", rej, extra.Patients)
		}
		if _, err := w.DecideBatch(ctx, vera, "diab", r3.Batch, true, "approve it anyway"); !errors.Is(err, derrors.Conflict) {
			t.Errorf("approving a batch with rejected rows: got %v, want conflict", err)
		}
		twice := rows{{int64(900001), "N"}, {int64(900002), "N"}, {int64(900001), "Y"}}
		r4, err := load.RunBatch(ctx, db, testKey, []load.Input{{Table: "patient_dimension", Source: &twice}}, load.Options{Agency: "north", Review: true})
		must(t, err)
		rev, err = w.ReviewBatch(ctx, vera, "diab", r4.Batch, 0)
		must(t, err)
		if len(rev.Rejected) != 1 || rev.Rejected[0].Rows != 2 {
			t.Errorf("a patient twice in a batch: rejected %+v, want its 2 rows", rev.Rejected)
		}
		if _, err := w.DecideBatch(ctx, vera, "diab", r4.Batch, true, "approve it anyway"); !errors.Is(err, derrors.Conflict) {
			t.Errorf("approving a batch with a patient twice: got %v, want conflict", err)
		}
		if got := look(); got != with {
			t.Errorf("a refused approval changed the analyst's answer: %+v, want %+v", got, with)
		}

		// Audited, with counts and reasons.
		actions := map[string]int{}
		for _, a := range []string{"warehouse.batch_approve", "warehouse.batch_reject", "warehouse.batch_review"} {
			var n int
			must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor = 'vera'`, a).Scan(&n))
			actions[a] = n
		}
		if actions["warehouse.batch_approve"] != 1 || actions["warehouse.batch_reject"] != 1 || actions["warehouse.batch_review"] < 2 {
			t.Errorf("audit actions %v: want one approval, one rejection and the reviews", actions)
		}
	})
}
