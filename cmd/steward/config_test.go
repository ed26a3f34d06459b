package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A setting of serve comes from its flag, else the environment, else the configuration
// file, else the default; a key that is no setting, or a value its flag refuses, is an error.
func TestServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "serve.yaml")
	os.WriteFile(conf, []byte(`
addr: 127.0.0.1:2222
rate-limit: 50
lock-window: 5m
smtp-from: config@example.org
metrics: false
trusted-proxy: [10.0.0.0/8, 192.0.2.1]
`), 0o600)
	env := map[string]string{"STEWARD_RATE_LIMIT": "7", "STEWARD_SMTP_FROM": "env@example.org", "STEWARD_DIGEST_HOUR": "9"}
	cmd := newServe()
	if err := cmd.ParseFlags([]string{"--addr", "127.0.0.1:1111", "--smtp-from", "flag@example.org"}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(cmd.Flags(), conf, func(k string) string { return env[k] }, "config"); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{
		"addr":        "127.0.0.1:1111",   // the flag over the file
		"smtp-from":   "flag@example.org", // the flag over the environment and the file
		"rate-limit":  "7",                // the environment over the file
		"digest-hour": "9",                // the environment alone
		"lock-window": "5m0s",             // the file alone
		"metrics":     "false",
		"lock-after":  "5", // the default
	} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
	for _, bad := range []struct{ yaml, want string }{
		{"adress: 127.0.0.1:1\n", `"adress" is not a setting of serve`},
		{"rate-limit: fast\n", "rate-limit"},
		{"- addr\n", "not a YAML map"},
	} {
		os.WriteFile(conf, []byte(bad.yaml), 0o600)
		err := applyConfig(newServe().Flags(), conf, func(string) string { return "" }, "config")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("config %q: got %v, want an error naming %s", bad.yaml, err, bad.want)
		}
	}
	// Through the command line: a bad file is a usage error (2).
	if code, out := stewardExit(t, "serve", "--config", conf); code != exitBadInput {
		t.Errorf("serve with a bad configuration: exit %d\n%s", code, out)
	}
	if code, out := stewardExit(t, "serve", "--config", filepath.Join(dir, "missing.yaml")); code != exitBadInput {
		t.Errorf("serve with a missing configuration: exit %d\n%s", code, out)
	}
}
