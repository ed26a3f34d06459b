package governance

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// An application walks from submission to approval; the multi-agency analysis is refused
// until the board approves it after both notice periods, then allowed.
func TestApplicationFromSubmissionToApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ann, bob := w.as(t, "ann"), w.as(t, "bob")
		all := []string{"north", "south", "river"}
		refused := func(step, want string) {
			t.Helper()
			_, err := w.gov.Permit(ctx, "outcomes", all, "outcome_counts")
			if !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: Permit got %v, want a refusal mentioning %q", step, err, want)
			}
		}
		refused("before any application", "needs an approved ethics application")

		if _, err := w.gov.Submit(ctx, ann, application()); !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "stated purposes") {
			t.Fatalf("submit before the project states purposes: got %v, want a purpose error", err)
		}
		if err := w.gov.SetPurposes(ctx, w.root, "outcomes", []Purpose{ProgramEvaluation, BestPractice}); err != nil {
			t.Fatal(err)
		}
		bad := application()
		bad.Assurances = bad.Assurances[1:]
		if _, err := w.gov.Submit(ctx, ann, bad); err == nil || !strings.Contains(err.Error(), "missing: no_client_identification") {
			t.Fatalf("submit without an assurance: got %v, want it named", err)
		}
		bad = application()
		bad.Purpose = CaseManagement
		if _, err := w.gov.Submit(ctx, ann, bad); err == nil || !strings.Contains(err.Error(), "must fit one of") {
			t.Fatalf("submit for case management: got %v, want a purpose refusal", err)
		}
		if _, err := w.gov.Submit(ctx, w.as(t, "dora"), application()); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("submit by someone without a role in the project: got %v, want forbidden", err)
		}
		app, err := w.gov.Submit(ctx, ann, application())
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		submitted := w.now
		refused("submitted", app.ID+" (submitted")

		if _, err := w.gov.Decide(ctx, bob, app.ID, Decision{Approve: true, Reasons: "sound"}); !errors.Is(err, derrors.Conflict) {
			t.Fatalf("decide before circulation: got %v, want conflict", err)
		}
		w.now = w.now.Add(25 * 24 * time.Hour) // members receive it on day 25: the meeting waits for day 32
		app, err = w.gov.Circulate(ctx, bob, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := submitted.Add(32 * 24 * time.Hour); !app.EarliestMeeting.Equal(want) {
			t.Errorf("earliest meeting: got %s, want %s (a week after circulation, later than 30 days after submission)", app.EarliestMeeting, want)
		}
		w.now = submitted.Add(31 * 24 * time.Hour)
		if _, err := w.gov.Decide(ctx, bob, app.ID, Decision{Approve: true, Reasons: "sound"}); !errors.Is(err, derrors.Conflict) || !strings.Contains(err.Error(), "may meet") {
			t.Fatalf("decide on day 31: got %v, want the notice period named", err)
		}
		refused("circulated", "the board may decide from "+app.EarliestMeeting.Format("2006-01-02"))
		w.now = app.EarliestMeeting
		if _, err := w.gov.Decide(ctx, ann, app.ID, Decision{Approve: true, Reasons: "mine"}); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("the investigator deciding her own application: got %v, want forbidden", err)
		}
		if _, err := w.gov.Decide(ctx, bob, app.ID, Decision{Approve: true}); !errors.Is(err, derrors.Invalid) {
			t.Fatalf("a decision without reasons: got %v, want invalid", err)
		}
		app, err = w.gov.Decide(ctx, bob, app.ID, Decision{Approve: true, Reasons: "Benefits outweigh minimal risk.", Conditions: "Cells under 31 suppressed."})
		if err != nil || app.Status != Approved || app.DecidedBy != "bob" || app.Conditions == "" {
			t.Fatalf("approve: got %+v, %v", app, err)
		}

		b, err := w.gov.Permit(ctx, "outcomes", all, "outcome_counts")
		if err != nil || b.Application != app.ID || b.Conditions != "Cells under 31 suppressed." {
			t.Fatalf("Permit after approval: got %+v, %v; want application %s with its conditions", b, err, app.ID)
		}
		if _, err := w.gov.Permit(ctx, "outcomes", all, "regression"); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("an analysis the application does not name: got %v, want forbidden", err)
		}
		if _, err := w.gov.Decide(ctx, w.as(t, "cy"), app.ID, Decision{Reasons: "again"}); !errors.Is(err, derrors.Conflict) {
			t.Errorf("a second decision: got %v, want conflict", err)
		}
		got := actions(t, db)
		for _, want := range []string{"purposes.set", "ethics.submit", "ethics.circulate", "ethics.decide"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit log lacks %s: %s", want, got)
			}
		}
	})
}

// The documented exception: one agency's data in its own project, or with its consent.
func TestSingleAgencyEvaluation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if b, err := w.gov.Permit(ctx, "north-eval", []string{"north"}, "caseload"); err != nil || b.SingleAgency != "north" {
			t.Errorf("north's data in north's own project: got %+v, %v; want allowed", b, err)
		}
		if _, err := w.gov.Permit(ctx, "north-eval", []string{"north", "south"}, "caseload"); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("two agencies in north's project: got %v, want forbidden", err)
		}
		if _, err := w.gov.Permit(ctx, "outcomes", []string{"south"}, "caseload"); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("south's data in a site project without consent: got %v, want forbidden", err)
		}
		c := Consent{Project: "outcomes", PartyKind: "agency", Party: "south", Consented: true}
		if err := w.gov.RecordConsent(ctx, w.as(t, "dora"), c); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("north's director consenting for south: got %v, want forbidden", err)
		}
		if err := w.gov.RecordConsent(ctx, w.as(t, "sam"), c); err != nil {
			t.Fatal(err)
		}
		ad, err := w.gov.Admit(ctx, "outcomes", []string{"south"}, "caseload")
		if err != nil || ad.SingleAgency != "south" || strings.Join(ad.Agencies, ",") != "south" {
			t.Errorf("south's data after south's consent: got %+v, %v", ad, err)
		}
	})
}

// actions lists the audit log's actions, oldest first.
func actions(t *testing.T, db *store.DB) string {
	rows, err := db.Query(`SELECT action FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// counts stands for the warehouse: clients per agency, in a database of its own.
func counts(t *testing.T, perAgency map[string]int) func(agencies []string) int {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "warehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE clients_per_agency (agency TEXT PRIMARY KEY, clients INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for a, n := range perAgency {
		db.Exec(`INSERT INTO clients_per_agency VALUES (?, ?)`, a, n)
	}
	return func(agencies []string) int {
		var total int
		for _, a := range agencies {
			var n int
			if err := db.QueryRow(`SELECT clients FROM clients_per_agency WHERE agency = ?`, a).Scan(&n); err != nil {
				t.Fatal(err)
			}
			total += n
		}
		return total
	}
}
