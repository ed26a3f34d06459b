package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
)

// Attack: the vendor runs `transfer cleanup --yes` on a machine holding grants that were never
// revoked. Before the fix cleanup deleted their records, `transfer revoke` then said "no
// record", and the token still uploaded (201) until it expired.
func TestAttackCleanupForgetsALiveGrant(t *testing.T) {
	s := transferEnv(t)
	id, token, _ := grantCLI(t, s, "xt-deid")
	out, err := steward(t, "transfer", "cleanup", "--yes")
	if err == nil {
		t.Errorf("cleanup --yes with a live grant: no error\n%s", out)
	}
	if !strings.Contains(out+errText(err), id) || !strings.Contains(out+errText(err), "--revoke") {
		t.Errorf("cleanup's refusal does not name the live grant %s and the way out (--revoke):\n%s%v", id, out, err)
	}
	if _, err := os.Stat(filepath.Join(grantsDir(), id+".json")); err != nil {
		t.Fatalf("cleanup removed the record of a live grant: %v", err)
	}
	if err := tokenUpload(token); err != nil {
		t.Fatalf("the grant was refused, so its token must still work: %v", err)
	}
	out, err = steward(t, "transfer", "cleanup", "--yes", "--revoke", "--wait", "10s")
	if err != nil {
		t.Fatalf("cleanup --yes --revoke: %v\n%s", err, out)
	}
	if err := tokenUpload(token); err == nil {
		t.Fatal("after cleanup --revoke the token still uploads")
	}
	if !strings.Contains(out, "token is dead") {
		t.Errorf("cleanup --revoke does not say it proved the token dead:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(grantsDir(), id+".json")); !os.IsNotExist(err) {
		t.Errorf("cleanup --revoke kept the record of a revoked grant: %v", err)
	}
	if log := readAudit(t); !strings.Contains(log, `"transfer.revoke"`) || !strings.Contains(log, `"transfer.cleanup"`) {
		t.Errorf("audit log lacks the revocation or the clean-up:\n%s", log)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Attack: the grant's token file holds the container's full SAS URL; `transfer script`
// put it whole into the credential's SECRET (SQL Server wants the query string alone, so the
// backup could never authenticate), and accepted a token for another container than
// --container-url.
func TestAttackScriptSecretIsTheBareToken(t *testing.T) {
	t.Setenv("STEWARD_HOME", t.TempDir())
	dir := t.TempDir()
	query := "sv=2025-01-05&spr=https&sip=203.0.113.7&sr=c&si=sg-0123456789abcdef&sig=abc%2Bdef%3D"
	tok := filepath.Join(dir, "xt.sas")
	os.WriteFile(tok, []byte("https://vendoracct.blob.core.windows.net/hospital-xt?"+query+"\n"), 0o600)
	out, err := steward(t, "transfer", "script", "--dialect", "sqlserver", "--database", "XT_deid",
		"--container-url", "https://vendoracct.blob.core.windows.net/hospital-xt", "--sas-file", tok, "--out", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "s", "backup.sql"))
	m := regexp.MustCompile(`SECRET = '([^']*)'`).FindStringSubmatch(string(b))
	if m == nil || m[1] != query {
		t.Errorf("credential secret: got %q, want the bare query string %q", m, query)
	}
	for _, c := range []struct{ url, why string }{
		{"https://vendoracct.blob.core.windows.net/other-container", "container"},
		{"https://otheracct.blob.core.windows.net/hospital-xt", "account"},
	} {
		out, err := steward(t, "transfer", "script", "--dialect", "sqlserver", "--database", "XT_deid",
			"--container-url", c.url, "--sas-file", tok, "--out", filepath.Join(dir, "t"))
		if err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("a token for hospital-xt on vendoracct with --container-url %s: got %v\n%s\nwant a refusal naming the %s", c.url, err, out, c.why)
		}
	}
}

// Attack: grant against a plain-HTTP endpoint wrote a token (spr=https) that can never work
// there, and sent the policy change in clear.
func TestAttackGrantOverHTTP(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{HTTP: true})
	t.Setenv("STEWARD_HOME", t.TempDir())
	t.Setenv("AZURE_STORAGE_KEY", azuritetest.Key)
	out, err := steward(t, "transfer", "grant", "--account", azuritetest.Account, "--container", "xt-deid",
		"--client-ip", "127.0.0.1", "--duration", "1h", "--endpoint", s.Endpoint)
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("grant with endpoint %s: got %v\n%s\nwant a refusal: HTTPS only", s.Endpoint, err, out)
	}
	if ids, _ := filepath.Glob(filepath.Join(grantsDir(), "*")); len(ids) != 0 {
		t.Errorf("a refused grant left %v", ids)
	}
}

// grant --for sqlserver gives exactly the permissions BACKUP TO URL needs (see
// azure.SQLServerBackupPermissions for where the fact comes from), and nothing else.
func TestGrantForSQLServer(t *testing.T) {
	s := transferEnv(t)
	out, err := steward(t, "transfer", "grant", "--account", azuritetest.Account, "--container", "xt-sql",
		"--client-ip", "127.0.0.1", "--duration", "1h", "--endpoint", s.Endpoint, "--for", "sqlserver")
	if err != nil {
		t.Fatalf("grant --for sqlserver: %v\n%s", err, out)
	}
	id := grantIDRE.FindStringSubmatch(out)[1]
	g, err := loadGrantRecord(id)
	if err != nil || g.Permissions != "rwdl" {
		t.Errorf("grant --for sqlserver: permissions %q, %v; want rwdl", g.Permissions, err)
	}
	if out, err := steward(t, "transfer", "grant", "--account", azuritetest.Account, "--container", "xt-sql",
		"--client-ip", "127.0.0.1", "--duration", "1h", "--endpoint", s.Endpoint, "--for", "sqlserver", "--permissions", "rcwl"); err == nil {
		t.Errorf("--for sqlserver with --permissions accepted:\n%s", out)
	}
}

// deid script --key-include writes the sqlcmd file that gives the script its key, owner-only;
// the script reads it by :r $(StewardKeyFile), so the key is on no command line.
func TestDeidScriptKeyInclude(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.yaml")
	os.WriteFile(pol, []byte("version: 1\ndefault: keep\ntables:\n  patient:\n    columns:\n      mrn: hash\n"), 0o600)
	key := filepath.Join(dir, "steward.key")
	os.WriteFile(key, []byte("3f1c0a9d8e7b6a5f4e3d2c1b0a998877\n"), 0o600)
	inc := filepath.Join(dir, "steward-key.sql")
	out, err := steward(t, "deid", "script", "--dialect", "sqlserver", "--policy", pol, "--key-file", key, "--out", filepath.Join(dir, "deid.sql"), "--key-include", inc)
	if err != nil {
		t.Fatalf("deid script: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(inc)
	if want := ":setvar StewardKey 0x" + hexOf("3f1c0a9d8e7b6a5f4e3d2c1b0a998877") + "\n"; string(b) != want {
		t.Errorf("key include: got %q, want %q", b, want)
	}
	if st, _ := os.Stat(inc); st == nil || st.Mode().Perm() != 0o600 {
		t.Error("the key include file is not readable by its owner only")
	}
	script, _ := os.ReadFile(filepath.Join(dir, "deid.sql"))
	if !strings.Contains(string(script), "\n:r $(StewardKeyFile)\n") || strings.Contains(string(script), hexOf("3f1c0a9d8e7b6a5f4e3d2c1b0a998877")) {
		t.Error("the script does not read the key from StewardKeyFile, or holds the key")
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

// Refusals say which: a token file altered on its way is refused by push before the service is
// asked; after a revocation the vendor's diagnose names it, where Azurite's answer
// (AuthorizationFailure) does not.
func TestRefusalsSayWhich(t *testing.T) {
	s := transferEnv(t)
	id, _, sasFile := grantCLI(t, s, "xt-deid")
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": 1000})
	b, _ := os.ReadFile(sasFile)
	altered := filepath.Join(t.TempDir(), "altered.sas")
	os.WriteFile(altered, []byte(strings.Replace(string(b), "sip=127.0.0.1", "sip=127.0.0.2", 1)), 0o600)
	if out, err := steward(t, "transfer", "push", "--sas-file", altered, dir); err == nil || !strings.Contains(err.Error(), "signature does not match (altered)") {
		t.Errorf("push with an altered token file: %v\n%s\nwant it refused as altered", err, out)
	}
	if out, err := steward(t, "transfer", "diagnose", "--grant", id, "--sas-file", sasFile); err != nil || !strings.Contains(out, "policy is in place") {
		t.Errorf("diagnose of a good token: %v\n%s", err, out)
	}
	if out, err := steward(t, "transfer", "revoke", "--grant", id, "--wait", "10s"); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	out, err := steward(t, "transfer", "push", "--sas-file", sasFile, dir)
	if err == nil || !strings.Contains(err.Error(), "revoked (no such policy), or signature does not match") || !strings.Contains(err.Error(), "transfer diagnose") {
		t.Errorf("push after revocation on Azurite: %v\n%s\nwant the two classes the service leaves open and the way to tell", err, out)
	}
	out, err = steward(t, "transfer", "diagnose", "--grant", id, "--sas-file", sasFile)
	if err == nil || !strings.Contains(out, "revoked: revoked (no such policy)") {
		t.Errorf("diagnose after revocation: %v\n%s\nwant revoked (no such policy)", err, out)
	}
	if out, _ := steward(t, "transfer", "status"); !regexp.MustCompile(id + `\s+azure\s+revoked`).MatchString(out) {
		t.Errorf("status after revocation:\n%s", out)
	}
}
