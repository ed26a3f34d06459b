package airlock

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// addOutsider creates agency south with its user sue (DATA_AGG in south's own project).
func addOutsider(t *testing.T, w world) {
	t.Helper()
	ctx := context.Background()
	cli := access.CLI("test")
	must(t, w.acc.CreateAgency(ctx, cli, access.Agency{Code: "south", Name: "South", Region: "west"}))
	must(t, w.acc.CreateProject(ctx, cli, access.Project{Code: "card", Name: "Cardio", Agency: "south"}))
	must(t, w.acc.CreateUser(ctx, cli, access.User{Name: "sue", Agency: "south", Email: "sue@example.org"}, "a long enough password 123"))
	must(t, w.acc.Grant(ctx, cli, "sue", "card", access.DataAgg))
}

// Attack: the officer issues a download link of a released export to someone who may not
// receive it — another agency's analyst, a user that does not exist, a project member who
// may not export. Each is refused as invalid (400), naming why; entitled recipients work.
func TestAttackLinkToOutsider(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		addOutsider(t, w)
		s, who := w.s, w.who
		bob, sam, olga := who("bob"), who("sam"), who("olga")
		must(t, s.SetExporter(ctx, sam, "diab", "bob", Automatic, ""))
		must(t, s.SetExporter(ctx, sam, "diab", "ann", Validated, ""))
		r, err := s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(500)}}})
		must(t, err)
		r, err = s.Review(ctx, olga, r.ID, true, "validated") // a hand-made upload: reviewed
		must(t, err)
		if r.Status != Released {
			t.Fatalf("got %s, want released", r.Status)
		}
		for _, c := range []struct{ who, why string }{
			{"sue", "another agency's analyst"},
			{"nobody", "a user that does not exist"},
			{"olga", "an officer who may not export"},
			{"sam", "the SPOC, not on the list"},
		} {
			_, _, err := s.Issue(ctx, olga, r.ID, c.who, "")
			if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "may not receive") {
				t.Errorf("link to %s (%s): got %v, want invalid: may not receive", c.who, c.why, err)
			}
		}
		var n int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM download_links WHERE recipient IN ('sue', 'nobody', 'olga', 'sam')`).Scan(&n))
		if n != 0 {
			t.Errorf("%d links to outsiders were stored", n)
		}
		for _, u := range []string{"bob", "ann"} { // the author; a member on the list
			if _, _, err := s.Issue(ctx, olga, r.ID, u, ""); err != nil {
				t.Errorf("link to %s: %v", u, err)
			}
		}

		// in a bunker only the data publishers receive: not even the author
		must(t, w.acc.CreateUser(ctx, access.CLI("test"), access.User{Name: "pia", Agency: "north", Email: "pia@example.org"}, "a long enough password 123"))
		must(t, w.acc.Grant(ctx, access.CLI("test"), "pia", "diab", access.DataPublisher))
		must(t, s.SetSettings(ctx, olga, "diab", Settings{Bunker: true, LinkDays: 7}))
		if _, _, err := s.Issue(ctx, olga, r.ID, "bob", ""); !errors.Is(err, derrors.Invalid) {
			t.Errorf("bunker: link to the analyst: got %v, want invalid", err)
		}
		if _, _, err := s.Issue(ctx, olga, r.ID, "pia", ""); err != nil {
			t.Errorf("bunker: link to the data publisher: %v", err)
		}
	})
}

// Attack: the SPOC puts on the export list someone who cannot export in the project —
// another agency's user, a user that does not exist, a member without DATA_AGG. Each is
// refused as invalid (400, not a database error or a silent entry).
func TestAttackExporterWhoCannotExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		addOutsider(t, w)
		s, sam := w.s, w.who("sam")
		for _, u := range []string{"sue", "nobody", "olga"} {
			err := s.SetExporter(ctx, sam, "diab", u, Automatic, "")
			if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "cannot request exports") {
				t.Errorf("put %s on the list: got %v, want invalid: cannot request exports", u, err)
			}
		}
		es, err := s.Exporters(ctx, sam, "diab")
		must(t, err)
		if len(es) != 0 {
			t.Errorf("the list holds %+v, want nobody", es)
		}
		must(t, s.SetExporter(ctx, sam, "diab", "bob", Validated, ""))
		must(t, s.SetExporter(ctx, sam, "diab", "bob", "", "")) // taking off always works
		must(t, s.SetExporter(ctx, sam, "diab", "nobody", "", ""))
	})
}
