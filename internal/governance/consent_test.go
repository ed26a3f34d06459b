package governance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Consent withdrawn by one region removes its agencies' data from the next answer, and the
// answer says how many were left out.
func TestRegionWithdrawsConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		answer := counts(t, map[string]int{"north": 120, "south": 75, "river": 40})
		all := []string{"north", "south", "river"}
		id := approved(t, w)

		ad, err := w.gov.Admit(ctx, "outcomes", all, "outcome_counts")
		if err != nil || len(ad.Agencies) != 0 || len(ad.Left) != 3 {
			t.Fatalf("approved, nobody consented yet: got %+v, %v; want all 3 left out", ad, err)
		}
		root := w.root
		for _, c := range []Consent{
			{Application: id, PartyKind: "agency", Party: "north", Consented: true},
			{Application: id, PartyKind: "agency", Party: "south", Consented: true},
			{Application: id, PartyKind: "agency", Party: "river", Consented: true},
			{Application: id, PartyKind: "region", Party: "west", Consented: true},
		} {
			if err := w.gov.RecordConsent(ctx, root, c); err != nil {
				t.Fatal(err)
			}
		}
		ad, _ = w.gov.Admit(ctx, "outcomes", all, "outcome_counts")
		if got := answer(ad.Agencies); got != 195 || len(ad.Left) != 1 || !strings.Contains(ad.Left[0].Reason, "region east has not consented") {
			t.Fatalf("east not consenting: got %d clients, left %+v; want 195 (north+south), river left out", got, ad.Left)
		}
		if err := w.gov.RecordConsent(ctx, root, Consent{Application: id, PartyKind: "region", Party: "east", Consented: true}); err != nil {
			t.Fatal(err)
		}
		ad, _ = w.gov.Admit(ctx, "outcomes", all, "outcome_counts")
		if got := answer(ad.Agencies); got != 235 || len(ad.Left) != 0 {
			t.Fatalf("everyone consenting: got %d clients, left %+v; want 235, none left out", got, ad.Left)
		}
		if err := w.gov.RecordConsent(ctx, root, Consent{Application: id, PartyKind: "region", Party: "west", Consented: false, Note: "board of the region withdrew"}); err != nil {
			t.Fatal(err)
		}
		ad, _ = w.gov.Admit(ctx, "outcomes", all, "outcome_counts")
		if got := answer(ad.Agencies); got != 40 || len(ad.Left) != 2 || !strings.Contains(ad.Left[0].Reason, "region west withdrew consent") {
			t.Fatalf("west withdrew: got %d clients (%v), left %+v; want 40 (river only), north and south left out", got, ad.Agencies, ad.Left)
		}
		if err := w.gov.RecordConsent(ctx, w.as(t, "dora"), Consent{Application: id, PartyKind: "region", Party: "west", Consented: true}); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("an agency's director recording a region's consent: got %v, want forbidden", err)
		}
		if err := w.gov.RecordConsent(ctx, root, Consent{Application: id, PartyKind: "region", Party: "nowhere", Consented: true}); !errors.Is(err, derrors.Invalid) {
			t.Errorf("consent of a region the application does not cover: got %v, want invalid", err)
		}
		if got := actions(t, db); strings.Count(got, "consent.give") != 5 || strings.Count(got, "consent.withdraw") != 1 {
			t.Errorf("audit: got %s, want 5 consent.give and 1 consent.withdraw", got)
		}
	})
}

// Client-level consent: a client who withdrew is left out; the audit entry holds a digest.
func TestClientConsentFlags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		dora := w.as(t, "dora")
		if err := w.gov.SetClientConsent(ctx, dora, "north", "N-0042", false); err != nil {
			t.Fatal(err)
		}
		if err := w.gov.SetClientConsent(ctx, dora, "north", "N-0043", true); err != nil {
			t.Fatal(err)
		}
		if err := w.gov.SetClientConsent(ctx, dora, "south", "S-1", false); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("north's director flagging a south client: got %v, want forbidden", err)
		}
		kept, left, err := w.gov.ClientFilter(ctx, "north", []string{"N-0041", "N-0042", "N-0043"})
		if err != nil || strings.Join(kept, ",") != "N-0041,N-0043" || left != 1 {
			t.Errorf("filter: got %v, %d left, %v; want N-0041,N-0043 and 1 left", kept, left, err)
		}
		var object string
		db.QueryRow(`SELECT object FROM audit_log WHERE action = 'client_consent.set' ORDER BY seq LIMIT 1`).Scan(&object)
		if strings.Contains(object, "N-0042") || !strings.Contains(object, ClientDigest("north", "N-0042")) {
			t.Errorf("audit object %q: want the client's digest, not the identifier", object)
		}
	})
}

// approved walks application() to approval and returns its id.
func approved(t *testing.T, w *world) string {
	t.Helper()
	ctx := context.Background()
	if err := w.gov.SetPurposes(ctx, w.root, "outcomes", []Purpose{BestPractice}); err != nil {
		t.Fatal(err)
	}
	app, err := w.gov.Submit(ctx, w.as(t, "ann"), application())
	if err != nil {
		t.Fatal(err)
	}
	bob := w.as(t, "bob")
	if _, err := w.gov.Circulate(ctx, bob, app.ID); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(30 * 24 * time.Hour)
	if _, err := w.gov.Decide(ctx, bob, app.ID, Decision{Approve: true, Reasons: "fits the purpose"}); err != nil {
		t.Fatal(err)
	}
	return app.ID
}
