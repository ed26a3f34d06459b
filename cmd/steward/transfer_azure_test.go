package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/transfer/azure"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
)

// transferEnv starts Azurite and points the command line at it: a fresh $STEWARD_HOME, the
// emulator's key in AZURE_STORAGE_KEY, its certificate trusted through SSL_CERT_FILE.
func transferEnv(t *testing.T) *azuritetest.Server {
	s := azuritetest.New(t, azuritetest.Options{})
	t.Setenv("SSL_CERT_FILE", s.CertFile)
	t.Setenv("STEWARD_HOME", t.TempDir())
	t.Setenv("AZURE_STORAGE_KEY", azuritetest.Key)
	return s
}

var grantIDRE = regexp.MustCompile(`grant (sg-[0-9a-f]+):`)

// grantCLI grants a token with the command line and returns the grant's id, the token and
// the token's file.
func grantCLI(t *testing.T, s *azuritetest.Server, containerName string) (id, token, sasFile string) {
	t.Helper()
	out, err := steward(t, "transfer", "grant", "--account", azuritetest.Account, "--container", containerName,
		"--client-ip", "127.0.0.1", "--duration", "1h", "--margin", "30m", "--endpoint", s.Endpoint)
	if err != nil {
		t.Fatalf("grant: %v\n%s", err, out)
	}
	m := grantIDRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("grant printed no id:\n%s", out)
	}
	path := filepath.Join(os.Getenv("STEWARD_HOME"), "grants", m[1]+".sas")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %o, want 600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	token = azure.ParseTokenFile(b).Token
	rec, _ := os.ReadFile(filepath.Join(os.Getenv("STEWARD_HOME"), "grants", m[1]+".json"))
	sig := regexp.MustCompile(`sig=([^&]+)`).FindStringSubmatch(token)[1]
	for what, text := range map[string]string{"grant's output": out, "grant record": string(rec), "audit log": readAudit(t)} {
		if strings.Contains(text, sig) || strings.Contains(text, azuritetest.Key) {
			t.Errorf("the %s shows the token's signature or the account key", what)
		}
	}
	return m[1], token, path
}

func readAudit(t *testing.T) string {
	b, _ := os.ReadFile(auditLogPath())
	return string(b)
}

// tokenUpload tries an upload with the token (trusting Azurite through SSL_CERT_FILE).
func tokenUpload(token string) error {
	c, err := container.NewClientWithNoCredential(token, nil)
	if err != nil {
		return err
	}
	_, err = c.NewBlockBlobClient("late.bin").Upload(context.Background(), streaming.NopCloser(strings.NewReader("x")), nil)
	return err
}

// TestTransferHandOver runs the hand-over as vendor and DBA would: grant, push, confirm.
func TestTransferHandOver(t *testing.T) {
	s := transferEnv(t)
	id, token, sasFile := grantCLI(t, s, "xt-deid")
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": 3<<20 + 5, "xtarchive.dump": 1 << 20})
	out, err := steward(t, "transfer", "push", "--sas-file", sasFile, "--block-mib", "1", dir)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	show, err := steward(t, "transfer", "grant", "--account", azuritetest.Account, "--container", "other",
		"--client-ip", "127.0.0.1", "--duration", "1h", "--endpoint", s.Endpoint, "--show-token")
	if err != nil || !strings.Contains(show, "sig=") || !strings.Contains(show, "private or loopback address") {
		t.Errorf("grant --show-token for 127.0.0.1: got %v\n%s\nwant the token and a note about the private address", err, show)
	}
	if !strings.Contains(out, "pushed 3 files") || !strings.Contains(out, "6 blocks sent") || strings.Contains(out, "sig=") {
		t.Errorf("push output:\n%s\nwant 3 files, 6 blocks sent, no signature", out)
	}
	if err := tokenUpload(token); err != nil {
		t.Fatalf("the token should still work before confirm: %v", err)
	}
	out, err = steward(t, "transfer", "confirm", "--grant", id, "--wait", "10s")
	if err != nil {
		t.Fatalf("confirm: %v\n%s", err, out)
	}
	for _, want := range []string{"ok    xt.dump", "ok    xtarchive.dump", "extra late.bin", "token is dead", "confirmed: the upload matches the manifest (2 file(s))"} {
		if !strings.Contains(out, want) {
			t.Errorf("confirm output lacks %q:\n%s", want, out)
		}
	}
	if err := tokenUpload(token); err == nil {
		t.Error("the token still uploads after confirm")
	}
	log := readAudit(t)
	for _, action := range []string{`"transfer.grant"`, `"transfer.push"`, `"transfer.confirm"`} {
		if !strings.Contains(log, action) {
			t.Errorf("audit log lacks %s", action)
		}
	}
	if n, _, err := audit.Verify(context.Background(), audit.FileStore{Path: auditLogPath()}); err != nil || n != 4 {
		t.Errorf("audit verify: %d entries, %v; want 4 (two grants, push, confirm), intact", n, err)
	}
	g, _ := loadGrantRecord(id)
	if g.Confirmed.IsZero() || g.Revoked.IsZero() {
		t.Errorf("grant record after confirm: %+v, want confirmed and revoked times", g)
	}
}

// TestTransferConfirmRefusesDamage: a damaged upload is reported, the token stays alive;
// revoke then kills it without any check.
func TestTransferConfirmRefusesDamage(t *testing.T) {
	s := transferEnv(t)
	id, token, sasFile := grantCLI(t, s, "xt-deid")
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": 5000})
	if out, err := steward(t, "transfer", "push", "--sas-file", sasFile, dir); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	c, _ := container.NewClientWithNoCredential(token, nil)
	c.NewBlockBlobClient("xt.dump").Upload(context.Background(), streaming.NopCloser(bytes.NewReader(make([]byte, 5000))), nil)
	out, err := steward(t, "transfer", "confirm", "--grant", id)
	if err == nil || !strings.Contains(out, "FAIL  xt.dump") || !strings.Contains(err.Error(), "token stays valid") {
		t.Fatalf("confirm of a damaged upload: %v\n%s\nwant a failure naming xt.dump", err, out)
	}
	if err := tokenUpload(token); err != nil {
		t.Fatalf("the token should survive a failed confirm: %v", err)
	}
	out, err = steward(t, "transfer", "revoke", "--grant", id, "--wait", "10s")
	if err != nil || !strings.Contains(out, "token is dead") {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if err := tokenUpload(token); err == nil {
		t.Error("the token still uploads after revoke")
	}
	if log := readAudit(t); !strings.Contains(log, "checks failed, not revoked") || !strings.Contains(log, `"transfer.revoke"`) {
		t.Errorf("audit log lacks the failed confirm or the revoke:\n%s", log)
	}
}

// TestTransferPushSurvivesKill9 kills the push binary after it staged some blocks; the rerun
// sends only the missing ones.
func TestTransferPushSurvivesKill9(t *testing.T) {
	s := transferEnv(t)
	_, token, sasFile := grantCLI(t, s, "xt-deid")
	const blocks = 48
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": blocks << 20})
	bin := filepath.Join(t.TempDir(), "steward")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "transfer", "push", "--sas-file", sasFile, "--block-mib", "1", "--concurrency", "1", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	bb, _ := blockblob.NewClientWithNoCredential(strings.Replace(token, "?", "/xt.dump?", 1), &blockblob.ClientOptions{})
	staged := 0
	for deadline := time.Now().Add(time.Minute); staged < 8 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if bl, err := bb.GetBlockList(context.Background(), blockblob.BlockListTypeUncommitted, nil); err == nil {
			staged = len(bl.UncommittedBlocks)
		}
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	if staged < 8 || staged >= blocks {
		t.Fatalf("saw %d blocks staged before the kill, want 8..%d", staged, blocks-1)
	}
	out, err := steward(t, "transfer", "push", "--sas-file", sasFile, "--block-mib", "1", dir)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(\d+) blocks sent, (\d+) already staged`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rerun output:\n%s", out)
	}
	var sent, skipped int
	json.Unmarshal([]byte(m[1]), &sent)
	json.Unmarshal([]byte(m[2]), &skipped)
	if skipped < staged || sent+skipped != blocks+1 {
		t.Errorf("rerun sent %d and skipped %d blocks; want at least the %d staged before the kill skipped, %d in all", sent, skipped, staged, blocks+1)
	}
	a := azure.Account{Name: azuritetest.Account, Key: azuritetest.Key, Endpoint: s.Endpoint, Client: s.Client}
	if res, err := a.Check(context.Background(), "xt-deid", nil); err != nil || !res.OK() {
		t.Errorf("check after the resumed push: %+v, %v", res, err)
	}
}

func loadGrantRecord(id string) (azure.Grant, error) {
	var g azure.Grant
	err := ledger().Load(id, &g)
	return g, err
}
