package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// An administrator's report on one person known to two agencies: what is held (consent,
// a correction, their account), which approved analyses may use their records, which
// agencies to inform; the correction is answered by the agency; nothing identifying goes
// to the audit log.
func TestPersonReportAndCorrections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		id := approved(t, w)
		for _, c := range []Consent{{Application: id, PartyKind: "agency", Party: "north", Consented: true}, {Application: id, PartyKind: "region", Party: "west", Consented: true}} {
			if err := w.gov.RecordConsent(ctx, w.root, c); err != nil {
				t.Fatal(err)
			}
		}
		dora := w.as(t, "dora")
		if err := w.gov.SetClientConsent(ctx, dora, "north", "N-0042", true); err != nil {
			t.Fatal(err)
		}
		who := Person{Clients: []ClientRef{{"north", "N-0042"}, {"river", "R-7"}}, User: "ann"}
		if _, err := w.gov.PersonReport(ctx, dora, who); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("a director producing the report: got %v, want forbidden", err)
		}
		if err := w.acc.CreateUser(ctx, w.root, access.User{Name: "sue", Agency: "south", Admin: true}, "a long password"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.gov.PersonReport(ctx, w.as(t, "sue"), who); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("south's administrator reporting on north's client: got %v, want forbidden", err)
		}
		c, err := w.gov.RequestCorrection(ctx, w.root, Correction{Agency: "north", Client: "N-0042", Item: "date of birth", Requested: "born 1981, not 1987"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.gov.CloseCorrection(ctx, w.as(t, "sam"), c.ID, true, "fixed"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("south's director answering north's correction: got %v, want not found", err)
		}
		if err := w.gov.CloseCorrection(ctx, dora, c.ID, true, "Corrected in the intake record."); err != nil {
			t.Fatal(err)
		}
		r, err := w.gov.PersonReport(ctx, w.root, who)
		if err != nil {
			t.Fatal(err)
		}
		var whats []string
		for _, it := range r.Held {
			whats = append(whats, it.Source+": "+it.What)
		}
		got := strings.Join(whats, "\n")
		for _, want := range []string{"client consent: consent to research and evaluation use", "corrections: correction " + c.ID,
			"accounts: Steward account ann", "accounts: role DATA_AGG in project outcomes", "audit log: entries of actions by this account"} {
			if !strings.Contains(got, want) {
				t.Errorf("report lacks %q; held:\n%s", want, got)
			}
		}
		if len(r.Uses) != 1 || !strings.Contains(r.Uses[0].What, id) || r.Uses[0].Agency != "north" {
			t.Errorf("uses: got %+v, want application %s through north only (river has not consented)", r.Uses, id)
		}
		if strings.Join(r.Agencies, ",") != "north,river" {
			t.Errorf("agencies to inform: got %v", r.Agencies)
		}
		var html, js bytes.Buffer
		if err := r.Write(&html, "html"); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"N-0042", "Housing outcomes", "born 1981, not 1987", "amended", "Corrected in the intake record."} {
			if !strings.Contains(html.String(), want) {
				t.Errorf("HTML report lacks %q", want)
			}
		}
		r.Write(&js, "json")
		var back Report
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Held) != len(r.Held) {
			t.Errorf("JSON report: %v, %d items, want %d", err, len(back.Held), len(r.Held))
		}
		var log strings.Builder
		rows, _ := db.Query(`SELECT action, object, detail FROM audit_log`)
		for rows.Next() {
			var a, o, d string
			rows.Scan(&a, &o, &d)
			log.WriteString(a + " " + o + " " + d + "\n")
		}
		rows.Close()
		if strings.Contains(log.String(), "N-0042") || strings.Contains(log.String(), "1981") || !strings.Contains(log.String(), "person.report person/"+ClientDigest("north", "N-0042")) {
			t.Errorf("audit log names the client or the correction's content, or lacks the report:\n%s", log.String())
		}

		// A client who withdrew consent: no analysis uses their records any more.
		if err := w.gov.SetClientConsent(ctx, dora, "north", "N-0042", false); err != nil {
			t.Fatal(err)
		}
		r, _ = w.gov.PersonReport(ctx, w.root, Person{Clients: []ClientRef{{"north", "N-0042"}}})
		if len(r.Uses) != 0 {
			t.Errorf("uses after the client withdrew: got %d, want 0", len(r.Uses))
		}
	})
}
