package access_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/smtptest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

const pw = "correct horse battery"

var root = access.CLI("test")

// world sets up two regions' agencies, projects and users on a fresh service.
func world(t *testing.T, db *store.DB, cfg access.Config, n access.Notifier) *access.Service {
	t.Helper()
	ctx := context.Background()
	s := access.New(db, cfg, n)
	must(t, s.CreateRegion(ctx, root, access.Region{Code: "west", Name: "West"}))
	must(t, s.CreateAgency(ctx, root, access.Agency{Code: "north", Name: "North clinic", Region: "west"}))
	must(t, s.CreateAgency(ctx, root, access.Agency{Code: "south", Name: "South clinic", Region: "west"}))
	must(t, s.CreateProject(ctx, root, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}))
	must(t, s.CreateProject(ctx, root, access.Project{Code: "cross", Name: "Cross-agency"}))
	for _, u := range []access.User{
		{Name: "ann", Agency: "north"}, {Name: "bob", Agency: "south"},
		{Name: "nadmin", Agency: "north", Admin: true},
		{Name: "dora", Director: true, Email: "dora@example.org"},
	} {
		must(t, s.CreateUser(ctx, root, u, pw))
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func entries(t *testing.T, s *access.Service) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	must(t, s.Audit.Walk(context.Background(), func(e audit.Entry) error { out = append(out, e); return nil }))
	return out
}

func TestGrantCascadesAndRevokeRemovesHigher(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{}, nil)
		must(t, s.Grant(ctx, root, "ann", "diab", access.DataDeid))
		p, err := s.Principal(ctx, "ann", "")
		must(t, err)
		if got := p.Level("diab"); got != access.DataDeid.Level() {
			t.Errorf("after grant DATA_DEID: level %d, want %d", got, access.DataDeid.Level())
		}
		if len(p.Projects["diab"]) != 4 {
			t.Errorf("after grant DATA_DEID: roles %v, want the 4 track roles up to DATA_DEID", p.Projects["diab"])
		}
		must(t, s.Revoke(ctx, root, "ann", "diab", access.DataAgg))
		p, _ = s.Principal(ctx, "ann", "")
		if got := p.Projects["diab"]; !slices.Equal(got, []access.Role{access.DataObfsc}) {
			t.Errorf("after revoke DATA_AGG: roles %v, want [DATA_OBFSC]", got)
		}
		if !access.Allowed(p, access.ObfuscatedCount, access.Project{Code: "diab", Agency: "north"}) ||
			access.Allowed(p, access.ExactCount, access.Project{Code: "diab", Agency: "north"}) {
			t.Errorf("after revoke DATA_AGG: want obfuscated counts only")
		}
		log := entries(t, s)
		last := log[len(log)-1]
		if last.Action != "revoke" || last.Detail["removed"] != "DATA_AGG DATA_LDS DATA_DEID" {
			t.Errorf("last audit entry: got %s %v, want revoke removing DATA_AGG DATA_LDS DATA_DEID", last.Action, last.Detail)
		}
	})
}

func TestAgencyScoping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{}, nil)
		nadmin, err := s.Principal(ctx, "nadmin", "")
		must(t, err)
		users, err := s.Users(ctx, nadmin)
		must(t, err)
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
		}
		if want := []string{"ann", "nadmin"}; !slices.Equal(names, want) {
			t.Errorf("north's administrator lists users %v, want %v", names, want)
		}
		if err := s.Grant(ctx, root, "bob", "diab", access.DataAgg); !errors.Is(err, derrors.Invalid) {
			t.Errorf("grant south's bob a role in north's project: got %v, want invalid", err)
		}
		if err := s.Grant(ctx, nadmin, "bob", "cross", access.DataAgg); !errors.Is(err, derrors.NotFound) {
			t.Errorf("north's administrator grants to south's bob: got %v, want not found", err)
		}
		if err := s.CreateUser(ctx, nadmin, access.User{Name: "eve", Agency: "south"}, pw); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("north's administrator creates a south user: got %v, want forbidden", err)
		}
		must(t, s.Grant(ctx, root, "bob", "cross", access.DataAgg))
		bob, _ := s.Principal(ctx, "bob", "")
		if _, err := s.Project(ctx, bob, "diab"); !errors.Is(err, derrors.NotFound) {
			t.Errorf("south's bob reads north's project: got %v, want not found", err)
		}
		ps, _ := s.Projects(ctx, bob)
		if len(ps) != 1 || ps[0].Code != "cross" {
			t.Errorf("bob's projects: got %v, want [cross]", ps)
		}
	})
}

func TestLockoutNotifiesDirectorAndNeedsAReasonToUnlock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		smtp := smtptest.Start(t)
		s := world(t, db, access.Config{AccountLockAfter: 3, AddressLockAfter: 100, SignInDelay: -1},
			access.Mailer{Addr: smtp.Addr, From: "steward@example.org"})
		const wrong = "Tr0ub4dor&3-secret"
		for i := range 3 {
			if _, err := s.SignIn(ctx, "ann", wrong, "192.0.2.7"); !errors.Is(err, access.ErrSignIn) {
				t.Fatalf("wrong password %d: got %v, want the sign-in error", i+1, err)
			}
		}
		if _, err := s.SignIn(ctx, "ann", pw, "192.0.2.7"); !errors.Is(err, derrors.Locked) {
			t.Fatalf("right password after the lock, from the same address: got %v, want locked", err)
		}
		msgs := smtp.Wait(1, 10*time.Second)
		if len(msgs) != 1 {
			t.Fatalf("director's mail: got %d messages, want 1", len(msgs))
		}
		m := msgs[0]
		if !slices.Equal(m.To, []string{"dora@example.org"}) || !strings.Contains(m.Data, `account "ann"`) || !strings.Contains(m.Data, "192.0.2.7") {
			t.Errorf("director's mail to %v:\n%s\nwant to dora naming account ann and address 192.0.2.7", m.To, m.Data)
		}
		if strings.Contains(m.Data, wrong) || strings.Contains(m.Data, pw) {
			t.Errorf("director's mail contains a password:\n%s", m.Data)
		}

		locks, err := s.Locks(ctx, root)
		must(t, err)
		if len(locks) != 1 || locks[0].Kind != access.LockFromAddress || locks[0].Key != "ann@192.0.2.7" || locks[0].Failures != 3 {
			t.Errorf("locks: got %+v, want account ann from 192.0.2.7 after 3 failures", locks)
		}
		ann := access.Principal{User: "ann"}
		if _, err := s.Unlock(ctx, ann, access.LockAccount, "ann", "let me in please"); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("ann unlocks herself: got %v, want forbidden", err)
		}
		if _, err := s.Unlock(ctx, root, access.LockAccount, "ann", " "); !errors.Is(err, derrors.Invalid) {
			t.Errorf("unlock without a reason: got %v, want invalid", err)
		}
		must(t, second(s.Unlock(ctx, root, access.LockAccount, "ann", "called ann; she mistyped")))
		if _, err := s.SignIn(ctx, "ann", pw, "192.0.2.7"); err != nil {
			t.Errorf("sign in after unlock: %v", err)
		}

		var actions []string
		for _, e := range entries(t, s) {
			if e.Seq > 0 && strings.HasPrefix(e.Action, "login") || e.Action == "lock" || e.Action == "unlock" || e.Action == "notify" {
				actions = append(actions, e.Action+"@"+e.Source)
			}
			b := e.Actor + e.Object + e.Source + strings.Join(slices.Collect(maps.Values(e.Detail)), " ")
			if strings.Contains(b, wrong) || strings.Contains(b, pw) {
				t.Errorf("audit entry %d holds a password: %+v", e.Seq, e)
			}
		}
		want := []string{"login.failed@192.0.2.7", "login.failed@192.0.2.7", "lock@192.0.2.7", "login.failed@192.0.2.7",
			"notify@192.0.2.7", "login.refused@192.0.2.7", "unlock@cli", "notify@cli", "login@192.0.2.7"}
		if !slices.Equal(actions, want) {
			t.Errorf("audit trail:\n got %v\nwant %v", actions, want)
		}
	})
}

func TestAddressLockAndNoEnumeration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{AccountLockAfter: 100, AddressLockAfter: 4, SignInDelay: -1}, nil)
		_, errUnknown := s.SignIn(ctx, "nobody", "whatever-password", "198.51.100.1")
		_, errWrong := s.SignIn(ctx, "ann", "whatever-password", "198.51.100.1")
		if errUnknown == nil || errWrong == nil || errUnknown.Error() != errWrong.Error() {
			t.Errorf("unknown user %q vs wrong password %q: want the same error", errUnknown, errWrong)
		}
		s.SignIn(ctx, "bob", "x", "198.51.100.1")
		s.SignIn(ctx, "zed", "x", "198.51.100.1")
		if _, err := s.SignIn(ctx, "bob", pw, "198.51.100.1"); !errors.Is(err, derrors.Locked) {
			t.Errorf("right password from a locked address: got %v, want locked", err)
		}
		if _, err := s.SignIn(ctx, "bob", pw, "198.51.100.2"); err != nil {
			t.Errorf("right password from another address: %v", err)
		}
		must(t, second(s.Unlock(ctx, root, access.LockAddress, "198.51.100.1", "office NAT, verified with IT")))
		// Sweeping keeps counts inside the window; with a zero window it forgets them all.
		var before, after int
		must(t, s.Sweep(ctx))
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures`).Scan(&before)
		s.Config.Window = -time.Second
		must(t, s.Sweep(ctx))
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures`).Scan(&after)
		if before != 7 || after != 0 {
			t.Errorf("failure counts: %d after a sweep within the window, %d after one past it; want 7 (accounts nobody, ann, zed — bob's reset by his sign-in — and the four from 198.51.100.1) then 0", before, after)
		}
		if _, err := s.SignIn(ctx, "bob", pw, "198.51.100.1"); err != nil {
			t.Errorf("after unlocking the address: %v", err)
		}
	})
}

// A password typed into the user-name field never reaches the audit log or the lockout
// counters as typed, yet repeated attempts with it still lock.
func TestUnknownNameIsNotRecordedAsTyped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{AccountLockAfter: 3, AddressLockAfter: 100, SignInDelay: -1}, nil)
		const typed = "Tr0ub4dor&3-in-the-wrong-field"
		for range 3 {
			s.SignIn(ctx, typed, "", "198.51.100.9")
		}
		if _, err := s.SignIn(ctx, typed, "", "198.51.100.9"); !errors.Is(err, derrors.Locked) {
			t.Errorf("a fourth attempt with the same unknown name: got %v, want locked", err)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures WHERE key = $1`, typed).Scan(&n)
		rows, err := db.QueryContext(ctx, `SELECT actor, object, detail FROM audit_log`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var a, o, d sql.NullString
			must(t, rows.Scan(&a, &o, &d))
			if strings.Contains(a.String+o.String+d.String, typed) {
				t.Fatalf("the audit log holds the typed name: %s %s %s", a.String, o.String, d.String)
			}
		}
		if n != 0 {
			t.Errorf("the lockout counters hold the typed name")
		}
	})
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{}, nil)
		ann, err := s.SignIn(ctx, "ann", pw, "127.0.0.1")
		must(t, err)
		secret, tok, err := s.CreateToken(ctx, ann, "script", time.Hour)
		must(t, err)
		p, id, err := s.Authenticate(ctx, secret, "127.0.0.1")
		if err != nil || p.User != "ann" || id != tok.ID {
			t.Fatalf("authenticate: got %q %q %v, want ann %q", p.User, id, err, tok.ID)
		}
		flipped := secret[:len(secret)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(secret, "A")]
		for _, bad := range []string{"", "stw_", flipped, "Stw_" + secret[4:]} {
			if _, _, err := s.Authenticate(ctx, bad, ""); !errors.Is(err, derrors.Unauthenticated) {
				t.Errorf("authenticate %q: got %v, want unauthenticated", bad, err)
			}
		}
		for range 10 { // refused requests lock the account: its tokens stop working
			must(t, s.Refused(ctx, ann, "GET /api/v1/users", "/api/v1/users", 403))
		}
		if _, _, err := s.Authenticate(ctx, secret, ""); !errors.Is(err, derrors.Locked) {
			t.Errorf("token of a locked account: got %v, want locked", err)
		}
		dora, _ := s.Principal(ctx, "dora", "")
		must(t, second(s.Unlock(ctx, dora, access.LockAccount, "ann", "test over")))
		bob, _ := s.Principal(ctx, "bob", "")
		if err := s.RevokeToken(ctx, bob, tok.ID); !errors.Is(err, derrors.NotFound) {
			t.Errorf("bob revokes ann's token: got %v, want not found", err)
		}
		must(t, s.RevokeToken(ctx, ann, tok.ID))
		if _, _, err := s.Authenticate(ctx, secret, ""); !errors.Is(err, derrors.Unauthenticated) {
			t.Errorf("revoked token: got %v, want unauthenticated", err)
		}
		secret2, tok2, _ := s.CreateToken(ctx, ann, "", time.Minute)
		db.ExecContext(ctx, `UPDATE api_tokens SET expires_at = $1 WHERE id = $2`, store.FormatTime(time.Now().Add(-time.Second)), tok2.ID)
		if _, _, err := s.Authenticate(ctx, secret2, ""); !errors.Is(err, derrors.Unauthenticated) {
			t.Errorf("expired token: got %v, want unauthenticated", err)
		}
		for _, e := range entries(t, s) {
			if strings.Contains(e.Object+e.Detail["expires"], secret) {
				t.Errorf("audit entry %d holds the token", e.Seq)
			}
		}
		var stored string
		db.QueryRowContext(ctx, `SELECT hash FROM api_tokens WHERE id = $1`, tok.ID).Scan(&stored)
		if stored == "" || strings.Contains(stored, secret) {
			t.Errorf("stored token: got %q, want a hash", stored)
		}
	})
}

func TestPasswords(t *testing.T) {
	h := access.HashPassword("s3cret password")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want argon2id with m=19456,t=2,p=1", h)
	}
	if !access.CheckPassword(h, "s3cret password") || access.CheckPassword(h, "s3cret passwore") {
		t.Errorf("check: want the right password only")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5"} {
		if access.CheckPassword(bad, "") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	if first, second := access.HashPassword("x"), access.HashPassword("x"); first == second {
		t.Errorf("two hashes of one password are equal: want a fresh salt each time")
	}
}

func TestBootstrapOnce(t *testing.T) {
	ctx := context.Background()
	s := access.New(storetest.Open(t, store.SQLite), access.Config{}, nil)
	must(t, s.Bootstrap(ctx, root, access.User{Name: "admin"}, pw))
	if err := s.Bootstrap(ctx, root, access.User{Name: "admin2"}, pw); !errors.Is(err, derrors.Conflict) {
		t.Errorf("second bootstrap: got %v, want conflict", err)
	}
	if err := s.CreateUser(ctx, root, access.User{Name: "Bad Name"}, pw); !errors.Is(err, derrors.Invalid) {
		t.Errorf("bad user name: got %v, want invalid", err)
	}
	if err := s.CreateUser(ctx, root, access.User{Name: "short"}, "short"); !errors.Is(err, derrors.Invalid) {
		t.Errorf("short password: got %v, want invalid", err)
	}
}

func TestAuditLogIsCutToTheReadersAgency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{}, nil)
		for _, u := range []string{"ann", "bob", "nadmin"} {
			if _, err := s.SignIn(ctx, u, pw, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		nadmin, _ := s.Principal(ctx, "nadmin", "")
		es, err := s.AuditLog(ctx, nadmin, store.Filter{Action: "login"})
		must(t, err)
		var actors []string
		for _, e := range es {
			actors = append(actors, e.Actor)
		}
		if want := []string{"nadmin", "ann"}; !slices.Equal(actors, want) {
			t.Errorf("north's administrator reads logins by %v, want %v (newest first, no south users)", actors, want)
		}
		ann, _ := s.Principal(ctx, "ann", "")
		if _, err := s.AuditLog(ctx, ann, store.Filter{}); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("ann reads the audit log: got %v, want forbidden", err)
		}
	})
}

// Concurrent wrong passwords are all counted, and the account is locked once.
func TestConcurrentFailuresLockOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{AccountLockAfter: 4, AddressLockAfter: 1000, SignInDelay: -1}, nil)
		const n = 12
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { s.SignIn(ctx, "ann", "not the password", "192.0.2.50") })
		}
		wg.Wait()
		locks, err := s.Locks(ctx, root)
		must(t, err)
		if len(locks) != 1 || locks[0].Key != "ann@192.0.2.50" || locks[0].Failures+countAction(t, s, "login.refused") != n {
			t.Errorf("after %d concurrent failures: locks %+v, want ann locked with every attempt counted or refused", n, locks)
		}
		if got := countAction(t, s, "lock"); got != 1 {
			t.Errorf("lock entries: got %d, want 1", got)
		}
		if _, _, err := audit.Verify(ctx, s.Audit); err != nil {
			t.Errorf("audit chain after concurrent failures: %v", err)
		}
	})
}

func countAction(t *testing.T, s *access.Service, action string) int {
	n := 0
	for _, e := range entries(t, s) {
		if e.Action == action {
			n++
		}
	}
	return n
}

// second is the error of a call that also returns a value.
func second[T any](_ T, err error) error { return err }
