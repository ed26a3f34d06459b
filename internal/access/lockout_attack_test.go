package access_test

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

// Lockout turned against the site: anyone who knows the administrator's name types five
// wrong passwords from their own machine. Before: the account was locked from everywhere,
// the administrator included (423 from their own address).
func TestAttackWrongPasswordsCannotLockTheAdministratorOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := world(t, db, access.Config{SignInDelay: -1}, nil) // the defaults, without the delay (tested below)
		for range 8 {
			s.SignIn(ctx, "nadmin", "guess guess guess", "203.0.113.9")
		}
		if _, err := s.SignIn(ctx, "nadmin", pw, "203.0.113.9"); !errors.Is(err, derrors.Locked) {
			t.Errorf("the right password from the attacker's address after 8 failures: got %v, want locked", err)
		}
		if _, err := s.SignIn(ctx, "nadmin", pw, "198.51.100.7"); err != nil {
			t.Errorf("the administrator from their own address: got %v, want signed in", err)
		}
	})
}

// Failures from one address on one account are answered with a growing delay before the
// hard lock: an attempt within the delay is refused (429) without its password being tried.
func TestProgressiveDelayBeforeTheLock(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	s := world(t, db, access.Config{}, nil)
	for i := range 2 {
		if _, err := s.SignIn(ctx, "ann", "guess guess guess", "203.0.113.9"); !errors.Is(err, access.ErrSignIn) {
			t.Fatalf("failure %d: got %v, want a wrong password", i+1, err)
		}
	}
	_, err := s.SignIn(ctx, "ann", pw, "203.0.113.9")
	var d *access.DelayError
	if !errors.As(err, &d) || !errors.Is(err, derrors.TooMany) || d.Wait <= 0 {
		t.Fatalf("a third attempt at once: got %v, want a delay", err)
	}
	if _, err := s.SignIn(ctx, "ann", pw, "198.51.100.7"); err != nil {
		t.Errorf("ann from another address: got %v, want signed in", err)
	}
}

// Passwords a guesser tries first are refused even when long enough. Before: anything of
// 12 bytes or more was accepted, "aaaaaaaaaaaaaaaa" included.
func TestAttackCommonPasswordsAreRefused(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	s := world(t, db, access.Config{}, nil)
	for _, weak := range []string{"aaaaaaaaaaaaaaaa", "password1234", "qwertyuiop123", "letmein12345678", "iloveyou12345", "carol-carol-carol"} {
		err := s.CreateUser(ctx, root, access.User{Name: "carol", Agency: "north"}, weak)
		if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "guess") {
			t.Errorf("new user with password %q: got %v, want refused as easy to guess", weak, err)
		}
		if err := s.SetPassword(ctx, root, "ann", weak); !errors.Is(err, derrors.Invalid) {
			t.Errorf("ann's new password %q: got %v, want refused", weak, err)
		}
	}
	must(t, s.CreateUser(ctx, root, access.User{Name: "carol", Agency: "north"}, "Fj4-overt-quilt-Maple9"))
}

// Seed 002's caps: "Associate Agency personnel will only have a maximum of Evaluation Group
// level access … Associate Regional Agency personnel … a maximum of District level".
func TestLevelCaps(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	s := world(t, db, access.Config{}, nil)
	must(t, s.CreateAgency(ctx, root, access.Agency{Code: "westhealth", Name: "Western health", Region: "west", Regional: true}))
	const good = "Fj4-overt-quilt-Maple9"
	for _, c := range []struct {
		u  access.User
		ok bool
	}{
		{access.User{Name: "a1", Agency: "north", Level: access.LevelDistrict}, false},
		{access.User{Name: "a2", Agency: "north", Level: access.LevelDatabaseAdministrator}, false},
		{access.User{Name: "a3", Agency: "westhealth", Level: access.LevelDistrict}, true},
		{access.User{Name: "a4", Agency: "westhealth", Level: access.LevelDatabaseAdministrator}, false},
		{access.User{Name: "a5", Level: access.LevelEvaluationGroup}, false},
		{access.User{Name: "a6", Agency: "north"}, true},
		{access.User{Name: "a7", Level: "king"}, false},
	} {
		err := s.CreateUser(ctx, root, c.u, good)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, derrors.Invalid) {
			t.Errorf("user %s of %q at level %q: got %v, want allowed=%v", c.u.Name, c.u.Agency, c.u.Level, err, c.ok)
		}
	}
	p, err := s.Principal(ctx, "a3", "")
	must(t, err)
	if p.AccessLevel != access.LevelDistrict || strings.Join(p.District, " ") != "north south westhealth" {
		t.Errorf("a3: level %s, district %v; want district over north south westhealth", p.AccessLevel, p.District)
	}
	if p, _ := s.Principal(ctx, "a6", ""); p.AccessLevel != access.LevelEvaluationGroup {
		t.Errorf("a6 (north, no level given): got %s, want evaluation_group", p.AccessLevel)
	}
}
