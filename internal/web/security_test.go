package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
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
		cfg.AccountLockAfter, cfg.AddressLockAfter, cfg.SignInDelay = 3, 50, -1
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

// The address lock behind a reverse proxy: every request reaches the server from the
// proxy's address, so 20 failed sign-ins by anyone used to lock the proxy's address — and
// with it everyone. With the proxy configured as trusted, the client's address comes from
// X-Forwarded-For; from any other peer that header is ignored, so rotating it does not
// evade the lock either.
func TestAttackAddressLockBehindAProxyLocksOnlyTheGuesser(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		want    int // what ann gets after 25 failures by others
	}{
		{"behind a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 200},
		{"from an untrusted peer that sends the header", []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32")}, 423},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.Open(t, store.SQLite)
			svc := access.New(db, access.Config{SignInDelay: -1}, nil) // defaults: address locked at 20
			ctx, cli := context.Background(), access.CLI("test")
			for _, err := range []error{
				svc.Bootstrap(ctx, cli, access.User{Name: "root"}, rootPW),
				svc.CreateUser(ctx, cli, access.User{Name: "ann"}, rootPW),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			f := &fixture{t: t, svc: svc, web: New(svc, Options{TrustedProxies: tc.trusted})}
			f.srv = newTestServer(t, f.web)
			for i := range 25 {
				f.call("POST", "/api/v1/signin", "", fmt.Sprintf(`{"user":"guess%d","password":"wrong wrong wrong"}`, i),
					"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
			}
			code, body, _ := f.call("POST", "/api/v1/signin", "", `{"user":"ann","password":"`+rootPW+`"}`, "X-Forwarded-For", "198.51.100.7")
			if code != tc.want {
				t.Errorf("ann after 25 failures by others: got %d %.120s, want %d", code, body, tc.want)
			}
		})
	}
}

// A token minted for a script with the read scope cannot mint another token, nor run a
// query, nor administer. Before: tokens had no scope, and any token minted more.
func TestAttackTokensCannotMintTokensOrExceedTheirScope(t *testing.T) {
	f, _ := warehouseFixtureScoped(t)
	ann := f.signIn("ann", rootPW)
	code, body, _ := f.call("POST", "/api/v1/tokens", ann, `{"label":"report script","scopes":["read"]}`)
	if code != 201 || !strings.Contains(body, `"read"`) {
		t.Fatalf("mint a read token: got %d %s", code, body)
	}
	var r struct{ Token string }
	json.Unmarshal([]byte(body), &r)
	read := r.Token
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/me", "", 200},
		{"GET", "/api/v1/projects/diab", "", 200},
		{"GET", "/api/v1/projects/diab/queries", "", 403}, // stored answers are query's
		{"POST", "/api/v1/tokens", `{"label":"more"}`, 403},
		{"POST", "/api/v1/tokens", `{"label":"more","scopes":["admin"]}`, 403},
		{"POST", "/api/v1/projects/diab/queries", diabetesJSON, 403},
		{"POST", "/api/v1/projects/diab/grants", `{"user":"ann","role":"DATA_AGG"}`, 403},
	} {
		if code, body, _ := f.call(c.method, c.path, read, c.body); code != c.want {
			t.Errorf("read token %s %s: got %d %.150s, want %d", c.method, c.path, code, body, c.want)
		}
	}
	// A query token may query but not widen itself.
	code, body, _ = f.call("POST", "/api/v1/tokens", ann, `{"scopes":["query"]}`)
	if code != 201 {
		t.Fatalf("a query token: got %d %.150s, want 201", code, body)
	}
	json.Unmarshal([]byte(body), &r)
	if code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", r.Token, diabetesJSON); code != 201 {
		t.Errorf("query token runs a query: got %d %.150s, want 201", code, body)
	}
	if code, _, _ := f.call("POST", "/api/v1/tokens", r.Token, `{"scopes":["query"]}`); code != 403 {
		t.Errorf("query token mints: got %d, want 403", code)
	}
	if code, body, _ := f.call("POST", "/api/v1/tokens", ann, `{"scopes":["everything"]}`); code != 400 || !strings.Contains(body, "everything") {
		t.Errorf("unknown scope: got %d %s, want 400 naming it", code, body)
	}
}

func warehouseFixtureScoped(t *testing.T) (*fixture, string) {
	f, _ := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataAgg, Options{})
	return f, ""
}

// Every refused token is audited with the address and route, never the token itself.
func TestRefusedTokensAreAudited(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	bad := "stw_" + strings.Repeat("Q", 43)
	for range 3 {
		if code, _, _ := f.call("GET", "/api/v1/projects/diab", bad, ""); code != 401 {
			t.Fatalf("unknown token: got %d, want 401", code)
		}
	}
	es, err := f.svc.Audit.Find(context.Background(), store.Filter{Action: "token.refused"})
	if err != nil || len(es) != 3 || es[0].Source == "" || es[0].Detail["route"] != "GET /api/v1/projects/{id}" {
		t.Fatalf("token.refused entries: got %+v, %v; want 3 naming the address and the route", es, err)
	}
	for _, e := range es {
		if strings.Contains(fmt.Sprint(e), "QQQQ") {
			t.Errorf("entry %d holds the token", e.Seq)
		}
	}
}

// Probing for pages no route serves is refused access too: a signed-in user's 404s on
// made-up paths are audited and lock the account like any other refusal.
func TestProbingUnknownPathsIsWatched(t *testing.T) {
	f, _ := watchedFixture(t, storetest.Open(t, store.SQLite), access.Config{})
	eve := f.signIn("eve", rootPW)
	for i := range 10 {
		if code, _, _ := f.call("GET", fmt.Sprintf("/api/v1/admin/backdoor%d", i), eve, ""); code != 404 {
			t.Fatalf("probe %d: got %d, want 404", i, code)
		}
	}
	if code, _, _ := f.call("GET", "/api/v1/me", eve, ""); code != 423 {
		t.Errorf("eve after 10 probes of unknown paths: got %d, want 423", code)
	}
	es, _ := f.svc.Audit.Find(context.Background(), store.Filter{Action: "access.refused", Actor: "eve"})
	if len(es) != 10 || es[0].Detail["route"] != "(no route)" {
		t.Errorf("refusals audited: got %d (%+v), want 10 of no route", len(es), es)
	}
	// Strangers' 404s are not anyone's refusals.
	f.call("GET", "/nowhere", "", "")
}

// A director blocks an address by hand, with a reason; every request from it is then
// refused before sign-in, until released with a reason.
func TestDirectorBlocksAndReleasesAnAddress(t *testing.T) {
	f, _ := watchedFixture(t, storetest.Open(t, store.SQLite), access.Config{})
	dora := f.signIn("dora", rootPW)
	if code, body, _ := f.call("POST", "/api/v1/locks/block", dora, `{"address":"203.0.113.66","reason":"x"}`); code != 400 {
		t.Errorf("block without a reason: got %d %s, want 400", code, body)
	}
	eve := f.signIn("eve", rootPW)
	if code, _, _ := f.call("POST", "/api/v1/locks/block", eve, `{"address":"203.0.113.66","reason":"because I can"}`); code != 403 {
		t.Errorf("eve blocks an address: got %d, want 403", code)
	}
	if code, body, _ := f.call("POST", "/api/v1/locks/block", dora, `{"address":"127.0.0.1","reason":"probing from the lab"}`); code != 400 {
		t.Errorf("director blocks her own address: got %d %s, want 400", code, body)
	}
	ctx := context.Background()
	doraP, _ := f.svc.Principal(ctx, "dora", "198.51.100.1")
	if err := f.svc.Block(ctx, doraP, "127.0.0.1", "the lab's address probed us"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := f.call("POST", "/api/v1/signin", "", `{"user":"ann","password":"`+rootPW+`"}`); code != 423 {
		t.Errorf("sign-in from the blocked address: got %d, want 423", code)
	}
	if _, err := f.svc.Unlock(ctx, doraP, access.LockAddress, "127.0.0.1", "spoke with the lab"); err != nil {
		t.Fatal(err)
	}
	f.signIn("ann", rootPW)
}
