package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/smtptest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Seed 002, Part C's attacks, as the cleverest user of the site would try them. Each test
// failed against the code before its fix (see the commit that added it).

// watchedFixture is the usual fixture plus agency south (region west) with user eve and
// project south-p, a director dora with an e-mail address, and a real SMTP listener.
func watchedFixture(t *testing.T, db *store.DB, cfg access.Config) (*fixture, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t)
	if cfg.AccountLockAfter == 0 {
		cfg.AccountLockAfter, cfg.AddressLockAfter = 3, 50
	}
	svc := access.New(db, cfg, access.Mailer{Addr: mail.Addr, From: "steward@example.org"})
	ctx, cli := context.Background(), access.CLI("test")
	for _, err := range []error{
		svc.Bootstrap(ctx, cli, access.User{Name: "root"}, rootPW),
		svc.CreateRegion(ctx, cli, access.Region{Code: "west", Name: "West"}),
		svc.CreateAgency(ctx, cli, access.Agency{Code: "north", Name: "North", Region: "west"}),
		svc.CreateAgency(ctx, cli, access.Agency{Code: "south", Name: "South", Region: "west"}),
		svc.CreateProject(ctx, cli, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}),
		svc.CreateProject(ctx, cli, access.Project{Code: "south-p", Name: "South's", Agency: "south"}),
		svc.CreateUser(ctx, cli, access.User{Name: "ann", Agency: "north"}, rootPW),
		svc.CreateUser(ctx, cli, access.User{Name: "eve", Agency: "south"}, rootPW),
		svc.CreateUser(ctx, cli, access.User{Name: "dora", Director: true, Email: "dora@example.org"}, rootPW),
		svc.Grant(ctx, cli, "ann", "diab", access.DataLDS),
		svc.Grant(ctx, cli, "eve", "south-p", access.DataAgg),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{t: t, svc: svc}
	f.web = New(svc, Options{})
	f.srv = newTestServer(t, f.web)
	return f, mail
}

// The insider: eve, signed in, probes another agency's project, the audit log, the users
// and the administration 30 times. Before: 0 audit entries, no lock, no mail, and only
// the administrator could unlock (the director got 403).
func TestAttackRefusedAccessIsWatchedLockedAndMailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, mail := watchedFixture(t, db, access.Config{})
		eve := f.signIn("eve", rootPW)
		probes := []string{"/api/v1/projects/diab", "/api/v1/projects/diab/grants", "/api/v1/audit",
			"/api/v1/users", "/api/v1/locks", "/api/v1/projects/diab/queries"}
		codes := map[int]int{}
		for i := range 30 {
			code, _, _ := f.call("GET", probes[i%len(probes)], eve, "")
			codes[code]++
		}
		if codes[200] > 0 {
			t.Fatalf("eve's probes: got statuses %v, want none 200", codes)
		}
		ctx := context.Background()
		refused, err := f.svc.Audit.Find(ctx, store.Filter{Action: "access.refused", Actor: "eve", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		// The lock comes at the 10th refusal (the default); what follows is refused as locked.
		if len(refused) < 10 {
			t.Errorf("access.refused entries for eve: got %d, want at least 10", len(refused))
		}
		for _, e := range refused {
			if e.Source == "" || e.Detail["route"] == "" || e.Object == "" || e.Detail["status"] == "" {
				t.Errorf("refusal entry %d: got source %q route %q object %q status %q, want all set", e.Seq, e.Source, e.Detail["route"], e.Object, e.Detail["status"])
				break
			}
		}
		if code, body, _ := f.call("GET", "/api/v1/me", eve, ""); code != 423 {
			t.Errorf("eve after 30 refusals: got %d %s, want 423 (locked)", code, body)
		}
		if code, _, _ := f.call("POST", "/api/v1/signin", "", `{"user":"eve","password":"`+rootPW+`"}`); code != 423 {
			t.Errorf("eve signs in again: got %d, want 423", code)
		}
		msgs := mail.Wait(1, 10*time.Second)
		if len(msgs) == 0 || !strings.Contains(msgs[0].Data, "eve") || msgs[0].To[0] != "dora@example.org" {
			t.Fatalf("mail to the director: got %+v, want one to dora@example.org naming eve", msgs)
		}
		// The administrator's unlock waits for the director; the director reinstates with a reason.
		root := f.signIn("root", rootPW)
		code, body, _ := f.call("POST", "/api/v1/locks/unlock", root, `{"kind":"account","key":"eve","reason":"she says she mistyped project names"}`)
		if code != 202 || !strings.Contains(body, "director") {
			t.Errorf("administrator unlocks eve: got %d %s, want 202 awaiting the director", code, body)
		}
		if code, _, _ := f.call("POST", "/api/v1/signin", "", `{"user":"eve","password":"`+rootPW+`"}`); code != 423 {
			t.Errorf("eve after the administrator's request only: got %d, want 423", code)
		}
		dora := f.signIn("dora", rootPW)
		if code, body, _ := f.call("POST", "/api/v1/locks/unlock", dora, `{"kind":"account","key":"eve"}`); code != 400 || !strings.Contains(body, "reason") {
			t.Errorf("director reinstates without a reason: got %d %s, want 400", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/locks/unlock", dora, `{"kind":"account","key":"eve","reason":"called eve; a new colleague testing links"}`); code != 204 {
			t.Errorf("director reinstates eve: got %d %s, want 204", code, body)
		}
		f.signIn("eve", rootPW)
		es, _ := f.svc.Audit.Find(ctx, store.Filter{Action: "unlock", Object: "account/eve"})
		if len(es) != 1 || es[0].Actor != "dora" || es[0].Detail["reason"] == "" {
			t.Errorf("unlock entries: got %+v, want one by dora with the reason", es)
		}
	})
}

func newTestServer(t *testing.T, w *Server) *httptest.Server {
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return srv
}
