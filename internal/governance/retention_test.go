package governance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Records past their rule are listed, then removed with an audit entry; records under their
// rule, and kinds without a rule, stay.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		grants := func(project string) (n int) {
			db.QueryRow(`SELECT COUNT(*) FROM grants WHERE project = $1`, project).Scan(&n)
			return n
		}
		before := grants("outcomes") // ann: DATA_OBFSC, DATA_AGG, ETHICS_BOARD; bob, cy: ETHICS_BOARD
		if before != 5 {
			t.Fatalf("grants in outcomes: got %d, want 5", before)
		}
		if err := w.gov.SetProjectEnd(ctx, w.root, "outcomes", w.now.AddDate(0, 0, -100)); err != nil {
			t.Fatal(err)
		}
		if err := w.gov.SetRule(ctx, w.root, Rule{Kind: "project_grants", Days: 90, Basis: "Part A, 5: kept only as long as the purpose needs"}); err != nil {
			t.Fatal(err)
		}
		if err := w.gov.SetRule(ctx, w.root, Rule{Kind: "project_consents", Days: 365, Basis: "proof of consent for a year"}); err != nil {
			t.Fatal(err)
		}
		if err := w.gov.SetRule(ctx, w.root, Rule{Kind: "no_such_kind", Days: 1, Basis: "x"}); err == nil {
			t.Errorf("a rule for an unknown kind: got no error")
		}
		due, err := w.gov.Expired(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(due); got != "project_grants:5 project_consents:0 rejected_applications:- closed_corrections:- expired_tokens:-" {
			t.Errorf("expired: got %s", got)
		}
		if grants("outcomes") != 5 {
			t.Errorf("listing removed grants")
		}
		if _, err := w.gov.RemoveExpired(ctx, w.as(t, "dora")); err == nil {
			t.Errorf("a director removing records: got no error, want forbidden")
		}
		if _, err := w.gov.RemoveExpired(ctx, w.root); err != nil {
			t.Fatal(err)
		}
		if g := grants("outcomes"); g != 0 {
			t.Errorf("grants of the ended project after removal: got %d, want 0", g)
		}
		var detail string
		db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'retention.remove' AND object = 'retention/project_grants'`).Scan(&detail)
		if !strings.Contains(detail, `"removed":"5"`) {
			t.Errorf("audit detail of the removal: got %q, want removed 5", detail)
		}
		w.now = w.now.Add(24 * time.Hour)
		due, _ = w.gov.Expired(ctx)
		if got := summary(due); !strings.HasPrefix(got, "project_grants:0 ") {
			t.Errorf("after removal: got %s, want nothing past", got)
		}
	})
}

func summary(due []Due) string {
	var parts []string
	for _, d := range due {
		n := "-"
		if d.Rule != nil {
			n = fmt.Sprint(d.Past)
		}
		parts = append(parts, d.Name+":"+n)
	}
	return strings.Join(parts, " ")
}
