package main

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// serve's obfuscation flags: only those given are saved over the stored settings, audited as
// the operator's change; a new noise mode starts from its own defaults; a bad value or the
// removed set-keyed mode stops the server with the flag named.
func TestServeObfuscationFlags(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	w := warehouse.New(db, access.New(db, access.Config{}, nil), keys)
	apply := func(env string, args ...string) error {
		t.Helper()
		t.Setenv("STEWARD_WAREHOUSE_NOISE", env)
		var o obfscFlags
		f := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		o.add(f)
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		return o.apply(ctx, f, w, access.CLI("operator"))
	}
	changes := func() int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.settings' AND actor = 'cli:operator'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := apply(""); err != nil || changes() != 0 {
		t.Fatalf("no flags: got %v and %d changes, want nothing saved", err, changes())
	}
	if err := apply("", "--obfsc-sigma", "12", "--obfsc-budget", "0.2", "--query-lockout-count", "0"); err != nil {
		t.Fatal(err)
	}
	s, err := w.CurrentSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := warehouse.DefaultSettings()
	want.Sigma, want.Budget, want.LockoutCount = 12, 0.2, 0
	var detail string
	db.QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE action = 'warehouse.settings' ORDER BY seq DESC LIMIT 1`).Scan(&detail)
	if s != want || changes() != 1 || !strings.Contains(detail, "--obfsc-budget --obfsc-sigma --query-lockout-count") || !strings.Contains(detail, "10 → 12") {
		t.Errorf("flags saved: got %+v (audit %s), want %+v", s, detail, want)
	}
	if err := apply("i2b2"); err != nil {
		t.Fatal(err)
	}
	if s, _ = w.CurrentSettings(ctx); s.Noise != noise.I2B2 || s.Sigma != 1.323 || s.BreakdownSigma != 1.6 {
		t.Errorf("$STEWARD_WAREHOUSE_NOISE=i2b2: got %+v, want i2b2's settings", s)
	}
	for _, c := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--obfsc-noise", "consistent"}, "--obfsc-noise: noise mode \"consistent\" was removed"},
		{"", []string{"--obfsc-noise", "budget", "--obfsc-sigma", "0"}, "obfuscation setting sigma"},
		{"", []string{"--obfsc-breakdowns", "some"}, "obfuscation setting breakdowns"},
	} {
		if err := apply(c.env, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error with %q", c.args, err, c.want)
		}
	}
}
