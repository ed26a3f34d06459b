package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
	"github.com/stewardhealth/steward/internal/transfer/s3/s3test"
)

// s3Env starts s3rver and points the command line at it: a fresh $STEWARD_HOME, its account
// in the AWS variables, its certificate trusted through SSL_CERT_FILE.
func s3Env(t *testing.T) *s3test.Server {
	s := s3test.New(t)
	t.Setenv("SSL_CERT_FILE", s.CertFile)
	t.Setenv("STEWARD_HOME", t.TempDir())
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	return s
}

var s3GrantRE = regexp.MustCompile(`grant (s3-[0-9a-f]+):`)

func presignCLI(t *testing.T, s *s3test.Server, dir, prefix string, extra ...string) (id, uploads string) {
	t.Helper()
	uploads = filepath.Join(t.TempDir(), "uploads.json")
	out, err := steward(t, append([]string{"transfer", "s3-presign", dir, "--bucket", s3test.Bucket, "--region", s3test.Region,
		"--endpoint", s.Endpoint, "--prefix", prefix, "--client-ip", "203.0.113.0-203.0.113.255", "--out", uploads}, extra...)...)
	if err != nil {
		t.Fatalf("s3-presign: %v\n%s", err, out)
	}
	m := s3GrantRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("s3-presign printed no grant:\n%s", out)
	}
	for _, want := range []string{"valid until", "aws:SecureTransport", "REST-QUERY-STRING", "203.0.113.0/24"} {
		if !strings.Contains(out, want) {
			t.Errorf("s3-presign output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "X-Amz-Signature") {
		t.Error("s3-presign printed a presigned URL")
	}
	if st, err := os.Stat(uploads); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("uploads file: %v, want mode 600", err)
	}
	rec, _ := os.ReadFile(filepath.Join(grantsDir(), m[1]+".json"))
	if strings.Contains(string(rec), "X-Amz-Signature") || strings.Contains(readAudit(t), "X-Amz-Signature") {
		t.Error("the grant record or the audit log holds a presigned URL")
	}
	return m[1], uploads
}

// TestTransferS3HandOver: presign, push, status, confirm, as the owner and the client would.
func TestTransferS3HandOver(t *testing.T) {
	s := s3Env(t)
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": 21<<20 + 3, "xtarchive.dump": 1 << 20})
	id, uploads := presignCLI(t, s, dir, "xt/2026-12", "--part-mib", "5")
	out, err := steward(t, "transfer", "push-s3", dir, "--uploads", uploads)
	if err != nil {
		t.Fatalf("push-s3: %v\n%s", err, out)
	}
	if !strings.Contains(out, "pushed 3 files") || !strings.Contains(out, "7 parts sent, 0 already uploaded") {
		t.Errorf("push-s3 output:\n%s\nwant 3 files in 7 parts", out)
	}
	if out, _ := steward(t, "transfer", "status"); !strings.Contains(out, id) || !strings.Contains(out, "live") {
		t.Errorf("status before confirm:\n%s\nwant %s live", out, id)
	}
	out, err = steward(t, "transfer", "confirm", "--grant", id, "--wait", "1s")
	for _, want := range []string{"ok    xt.dump", "ok    xtarchive.dump", "ok    manifest.json", "confirmed: the upload matches the manifest (3 file(s))"} {
		if !strings.Contains(out, want) {
			t.Errorf("confirm output lacks %q:\n%s", want, out)
		}
	}
	// s3rver cannot abort an upload: the grant is confirmed but stays live until it expires.
	if err == nil || !strings.Contains(err.Error(), "AbortMultipartUpload") {
		t.Errorf("confirm on s3rver: got %v, want the revocation refused, naming AbortMultipartUpload", err)
	}
	if out, _ := steward(t, "transfer", "status"); !regexp.MustCompile(id + `\s+s3\s+live.*upload confirmed`).MatchString(out) {
		t.Errorf("status after confirm:\n%s\nwant %s live, upload confirmed", out, id)
	}
	if out, err := steward(t, "transfer", "cleanup", "--yes"); err == nil || !strings.Contains(err.Error(), id) {
		t.Errorf("cleanup with the S3 grant live: %v\n%s\nwant a refusal naming it", err, out)
	}
	log := readAudit(t)
	for _, action := range []string{`"transfer.s3-presign"`, `"transfer.push"`, `"transfer.confirm"`} {
		if !strings.Contains(log, action) {
			t.Errorf("audit log lacks %s", action)
		}
	}
}

// sparseBundle writes a bundle holding one sparse file of size bytes whose every MiB starts
// with its own offset (so no two parts are alike) and its manifest.
func sparseBundle(t *testing.T, size int64) string {
	dir := t.TempDir()
	path := filepath.Join(dir, "xt.dump")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < size; off += 1 << 20 {
		if _, err := f.WriteAt([]byte("part at "+strconv.FormatInt(off, 10)), off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	fh, _ := os.Open(path)
	h := sha256.New()
	io.Copy(h, fh)
	fh.Close()
	m := &transfer.Manifest{Version: 1, Created: time.Now().UTC(), Source: transfer.Source{Kind: "sqlite", Database: "xt"}, Format: "test",
		Files: []transfer.File{{Name: "xt.dump", Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}}}
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTransferS3ResumesAfterKill9: a file (sparse, every part distinct) goes to S3 in parts;
// the push is killed with SIGKILL midway, and the rerun sends only the parts its journal lacks;
// confirm then finds the object's SHA-256 equal to the manifest's. The default run moves 96 MiB
// in 5 MiB parts (20 parts); STEWARD_TEST_LARGE=1 moves 6 GiB in 16 MiB parts (384 parts: over
// the 5 GiB a single PUT may hold), and STEWARD_TEST_S3_GIB another size in GiB.
func TestTransferS3ResumesAfterKill9(t *testing.T) {
	s := s3Env(t)
	size, partMiB := int64(96<<20), int64(5)
	if os.Getenv("STEWARD_TEST_LARGE") == "1" {
		size, partMiB = 6<<30, 16
	}
	if v, err := strconv.ParseInt(os.Getenv("STEWARD_TEST_S3_GIB"), 10, 64); err == nil && v > 0 {
		size, partMiB = v<<30, 16
	}
	dir := sparseBundle(t, size)
	id, uploads := presignCLI(t, s, dir, "big", "--part-mib", strconv.FormatInt(partMiB, 10))
	var plan struct {
		Files []struct {
			Parts []struct{ Size int64 }
		}
	}
	b, _ := os.ReadFile(uploads)
	json.Unmarshal(b, &plan)
	total := 0
	for _, f := range plan.Files {
		total += len(f.Parts)
		for _, p := range f.Parts {
			if p.Size > 5<<30 {
				t.Fatalf("a part of %d bytes: over S3's 5 GiB", p.Size)
			}
		}
	}
	if want := int(size/(partMiB<<20)) + 2; total != want && total != want-1 {
		t.Fatalf("plan of %d parts, want %d (%d MiB parts and the manifest's one)", total, want-1, partMiB)
	}
	bin := filepath.Join(t.TempDir(), "steward")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "transfer", "push-s3", dir, "--uploads", uploads, "--concurrency", "1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journaled := func() int {
		var j struct {
			Files map[string]struct{ Parts map[string]any }
		}
		b, _ := os.ReadFile(uploads + ".journal")
		json.Unmarshal(b, &j)
		return len(j.Files["xt.dump"].Parts)
	}
	stopAt := total / 3
	for deadline := time.Now().Add(5 * time.Minute); journaled() < stopAt && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	before := journaled()
	if before < stopAt || before >= total-1 {
		t.Fatalf("%d parts journaled before the kill, want %d..%d", before, stopAt, total-2)
	}
	start := time.Now()
	out, err := steward(t, "transfer", "push-s3", dir, "--uploads", uploads)
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(\d+) parts sent, (\d+) already uploaded, ([\d.]+) MiB in`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rerun output:\n%s", out)
	}
	sent, _ := strconv.Atoi(m[1])
	skipped, _ := strconv.Atoi(m[2])
	if skipped < before || sent+skipped != total {
		t.Errorf("rerun sent %d parts and skipped %d; want at least the %d journaled before the kill skipped, %d in all", sent, skipped, before, total)
	}
	t.Logf("%d MiB: killed after %d of %d parts; the rerun sent %d parts (%s MiB) in %s", size>>20, before, total, sent, m[3], time.Since(start).Round(time.Second))
	start = time.Now()
	out, _ = steward(t, "transfer", "confirm", "--grant", id, "--wait", "1s")
	if !strings.Contains(out, "ok    xt.dump") || !strings.Contains(out, "confirmed: the upload matches the manifest (2 file(s))") {
		t.Errorf("confirm after the resumed push:\n%s", out)
	}
	t.Logf("confirm (reading %d MiB back through SHA-256) took %s", size>>20, time.Since(start).Round(time.Second))
}
