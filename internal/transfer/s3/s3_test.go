package s3

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/golden"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
	"github.com/stewardhealth/steward/internal/transfer/s3/s3test"
)

func TestCIDRs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"203.0.113.7", []string{"203.0.113.7/32"}},
		{"203.0.113.0/24", []string{"203.0.113.0/24"}},
		{"203.0.113.9/24", []string{"203.0.113.0/24"}},
		{"203.0.113.0-203.0.113.255", []string{"203.0.113.0/24"}},
		{"203.0.113.5-203.0.113.20", []string{"203.0.113.5/32", "203.0.113.6/31", "203.0.113.8/29", "203.0.113.16/30", "203.0.113.20/32"}},
		{"0.0.0.0-255.255.255.255", []string{"0.0.0.0/0"}},
		{"2001:db8::1", []string{"2001:db8::1/128"}},
	} {
		got, err := CIDRs(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("CIDRs(%q): got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "host.example", "203.0.113.9-203.0.113.1", "10.0.0.1-2001:db8::1"} {
		if got, err := CIDRs(bad); err == nil {
			t.Errorf("CIDRs(%q): got %v, want an error", bad, got)
		}
	}
}

// The bucket policy denies plain HTTP for the whole bucket and presigned writes from outside
// the client's range.
func TestPolicyGolden(t *testing.T) {
	cidrs, _ := CIDRs("203.0.113.5-203.0.113.20")
	b, err := Policy("hospital-handover", "xt/2026-11", cidrs)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "policy.json", append(b, '\n'))
	for _, want := range []string{`"aws:SecureTransport": "false"`, `"s3:authType": "REST-QUERY-STRING"`, `"NotIpAddress"`, `"Effect": "Deny"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("policy lacks %s", want)
		}
	}
}

func TestPartSize(t *testing.T) {
	for _, c := range []struct {
		size, want, got int64
		parts           int
	}{
		{0, 0, DefaultPartSize, 1},
		{1, 0, DefaultPartSize, 1},
		{6 << 30, 0, DefaultPartSize, 384},
		{6<<30 + 1, 0, DefaultPartSize, 385},
		{1 << 40, 0, 105 << 20, 9987},
		{MaxObjectSize, 0, 525 << 20, 9987},
		{100 << 20, 5 << 20, 5 << 20, 20},
	} {
		got, err := PartSize(c.size, c.want)
		if err != nil || got != c.got || len(parts(c.size, got)) != c.parts {
			t.Errorf("PartSize(%d, %d) = %d (%d parts), %v; want %d (%d parts)", c.size, c.want, got, len(parts(c.size, got)), err, c.got, c.parts)
		}
		if ps := parts(c.size, got); len(ps) > MaxParts || ps[0] > MaxPartSize {
			t.Errorf("%d bytes: %d parts, the first %d bytes: beyond S3's limits", c.size, len(ps), ps[0])
		}
	}
	for _, bad := range [][2]int64{{MaxObjectSize + 1, 0}, {1 << 20, 4 << 20}, {1 << 20, 6 << 30}} {
		if got, err := PartSize(bad[0], bad[1]); err == nil {
			t.Errorf("PartSize(%d, %d) = %d, want an error", bad[0], bad[1], got)
		}
	}
}

func testBucket(s *s3test.Server) Bucket {
	return Bucket{Name: s3test.Bucket, Region: s3test.Region, Endpoint: s.Endpoint, Credentials: StaticCredentials(s3test.AccessKey, s3test.SecretKey), Client: s.Client}
}

func bundleOf(t *testing.T, sizes map[string]int) (string, *transfer.Manifest, transfer.File) {
	dir := azuritetest.Bundle(t, sizes)
	m, err := transfer.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	mf, err := transfer.HashFile(filepath.Join(dir, transfer.ManifestName), transfer.ManifestName)
	if err != nil {
		t.Fatal(err)
	}
	return dir, m, mf
}

// Attack: before, s3-presign gave one presigned PUT for the whole of a 6 GiB file, which S3
// refuses (a single PUT holds at most 5 GiB). Now every file goes in parts within S3's
// limits, whatever its size.
func TestAttackSixGiBSinglePut(t *testing.T) {
	s := s3test.New(t)
	m := &transfer.Manifest{Files: []transfer.File{{Name: "xt.dump", Size: 6 << 30, SHA256: strings.Repeat("a", 64)}}}
	mf := transfer.File{Name: transfer.ManifestName, Size: 321, SHA256: strings.Repeat("b", 64)}
	g, p, err := testBucket(s).Grant(context.Background(), GrantRequest{Prefix: "xt", Expires: time.Hour}, m, mf)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 2 || p.Files[1].Name != transfer.ManifestName || len(g.Uploads) != 2 {
		t.Fatalf("plan of %d files (%v), want the dump then the manifest", len(p.Files), p.Files)
	}
	var total int64
	for i, part := range p.Files[0].Parts {
		total += part.Size
		u, _ := url.Parse(part.URL)
		if part.Size > MaxPartSize || (i < len(p.Files[0].Parts)-1 && part.Size < MinPartSize) || u.Query().Get("partNumber") != strconv.Itoa(i+1) || u.Query().Get("uploadId") != g.Uploads[0].UploadID {
			t.Fatalf("part %d: %d bytes, URL query %v: want a part within S3's limits, bound to its number and upload", i+1, part.Size, u.Query())
		}
	}
	if total != 6<<30 || len(p.Files[0].Parts) != 384 {
		t.Errorf("parts add up to %d bytes in %d parts, want %d in 384", total, len(p.Files[0].Parts), 6<<30)
	}
}

// sigV4 computes a presigned URL's signature from the AWS documentation's algorithm,
// independently of the SDK, for the given method, host and signed headers.
func sigV4(u *url.URL, method, host, secret string, header http.Header) string {
	q := u.Query()
	q.Del("X-Amz-Signature")
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cq []string
	for _, k := range keys {
		cq = append(cq, awsEscape(k)+"="+awsEscape(q.Get(k)))
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	var ch strings.Builder
	for _, h := range signed {
		v := header.Get(h)
		if h == "host" {
			v = host
		}
		ch.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	canon := strings.Join([]string{method, u.EscapedPath(), strings.Join(cq, "&"), ch.String(), q.Get("X-Amz-SignedHeaders"), "UNSIGNED-PAYLOAD"}, "\n")
	date := q.Get("X-Amz-Date")
	scope := strings.SplitN(q.Get("X-Amz-Credential"), "/", 2)[1]
	sum := sha256.Sum256([]byte(canon))
	toSign := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + secret)
	for _, part := range append(strings.Split(scope, "/"), toSign) {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(part))
		key = m.Sum(nil)
	}
	return hex.EncodeToString(key)
}

func awsEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// Every URL of a plan is signed as AWS documents it, expires at the stated time, and binds
// its method, host and (for parts) exact length.
func TestPlanURLsAreBound(t *testing.T) {
	s := s3test.New(t)
	_, m, mf := bundleOf(t, map[string]int{"xt.dump": 12 << 20})
	g, p, err := testBucket(s).Grant(context.Background(), GrantRequest{Prefix: "xt/2026-11", Expires: 90 * time.Minute, PartSize: 5 << 20}, m, mf)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Expires.Equal(g.Expiry) || g.Expiry.Sub(g.Created) != 90*time.Minute {
		t.Errorf("plan expires %s, grant %s (created %s): want both 90 minutes after the grant", p.Expires, g.Expiry, g.Created)
	}
	check := func(what, raw, method string, size int64) {
		u, _ := url.Parse(raw)
		q := u.Query()
		if q.Get("X-Amz-Expires") != "5400" || u.Scheme != "https" {
			t.Errorf("%s: X-Amz-Expires %s over %s, want 5400 over https", what, q.Get("X-Amz-Expires"), u.Scheme)
		}
		h := http.Header{}
		if size >= 0 {
			h.Set("Content-Length", strconv.FormatInt(size, 10))
			if !strings.Contains(q.Get("X-Amz-SignedHeaders"), "content-length") {
				t.Errorf("%s: the length is not signed (%s)", what, q.Get("X-Amz-SignedHeaders"))
			}
		}
		sig := q.Get("X-Amz-Signature")
		if got := sigV4(u, method, u.Host, s3test.SecretKey, h); got != sig {
			t.Errorf("%s: signature %s, the documented algorithm gives %s", what, sig, got)
		}
		other := "GET"
		if method == "GET" {
			other = "PUT"
		}
		if sigV4(u, other, u.Host, s3test.SecretKey, h) == sig || sigV4(u, method, "other.example", s3test.SecretKey, h) == sig {
			t.Errorf("%s: the signature does not depend on the method and host", what)
		}
	}
	for _, f := range p.Files {
		for _, part := range f.Parts {
			check(f.Name+" part "+strconv.Itoa(part.Number), part.URL, "PUT", part.Size)
		}
		check(f.Name+" completion", f.Complete, "POST", -1)
	}
	if _, _, err := testBucket(s).Grant(context.Background(), GrantRequest{Expires: 8 * 24 * time.Hour}, m, mf); err == nil {
		t.Error("an 8-day expiry was accepted")
	}
	if _, _, err := (Bucket{Name: "b", Region: "r", Endpoint: "http://127.0.0.1:9"}).Grant(context.Background(), GrantRequest{}, m, mf); err == nil || !strings.Contains(err.Error(), "HTTPS only") {
		t.Errorf("an http:// endpoint: got %v, want a refusal", err)
	}
}

// countingProgress cancels the push once n parts were sent.
type countingProgress struct {
	n      int64
	sent   atomic.Int64
	cancel func()
}

func (c *countingProgress) File(string, int64, int64) transfer.FileProgress { return c }
func (c *countingProgress) Add(int64) {
	if c.sent.Add(1) == c.n {
		c.cancel()
	}
}
func (c *countingProgress) Done(error) {}

// An interrupted push sends, when run again, only the parts its journal lacks; the owner's
// check then finds every object equal to the manifest, and a damaged or altered plan is
// refused with its reason.
func TestPushResumesAndChecks(t *testing.T) {
	s := s3test.New(t)
	dir, m, mf := bundleOf(t, map[string]int{"xt.dump": 31<<20 + 7, "small.dump": 1000})
	b := testBucket(s)
	g, p, err := b.Grant(context.Background(), GrantRequest{Prefix: "xt", Expires: time.Hour, PartSize: 5 << 20}, m, mf)
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "uploads.json.journal")
	ctx, cancel := context.WithCancel(context.Background())
	prog := &countingProgress{n: 3, cancel: cancel}
	_, err = Push(ctx, dir, p, PushOptions{Journal: journal, Client: s.Client, Concurrency: 1, Progress: prog})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the interrupted push: got %v, want it cancelled", err)
	}
	rep, err := Push(context.Background(), dir, p, PushOptions{Journal: journal, Client: s.Client})
	if err != nil {
		t.Fatalf("resumed push: %v", err)
	}
	total := 0
	for _, f := range p.Files {
		total += len(f.Parts)
	}
	// The interrupted push (one part at a time) finished exactly 3 parts; whether they were
	// parts of a file it then completed (skipped whole now) or of one it left open (its parts
	// skipped) depends on the bundle's order of files — either way, none is sent again.
	if rep.PartsSent != total-3 {
		t.Errorf("resumed push sent %d parts (skipped %d, and %d files whole); want the %d that the interrupted push had not sent", rep.PartsSent, rep.PartsSkipped, rep.FilesSkipped, total-3)
	}
	again, err := Push(context.Background(), dir, p, PushOptions{Journal: journal, Client: s.Client})
	if err != nil || again.PartsSent != 0 || again.FilesSkipped != len(p.Files) {
		t.Errorf("a third push: %+v, %v; want nothing sent, every file skipped", again, err)
	}
	checks, err := b.Check(context.Background(), g, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if c.Problem != "" {
			t.Errorf("check %s: %s", c.Name, c.Problem)
		}
	}
	if len(checks) != 3 {
		t.Errorf("checked %d objects, want 3", len(checks))
	}

	// The same plan for another bundle is refused before anything is sent.
	other, _, _ := bundleOf(t, map[string]int{"xt.dump": 31<<20 + 7, "small.dump": 1000})
	if _, err := Push(context.Background(), other, p, PushOptions{Journal: filepath.Join(t.TempDir(), "j"), Client: s.Client}); err == nil || !strings.Contains(err.Error(), "another bundle") {
		t.Errorf("push of another bundle: got %v, want a refusal", err)
	}
	// Refusals say which: an altered signature, an expired plan.
	g2, p2, err := b.Grant(context.Background(), GrantRequest{Prefix: "xt2", Expires: time.Hour, PartSize: 5 << 20}, m, mf)
	if err != nil {
		t.Fatal(err)
	}
	_ = g2
	altered := p2
	altered.Files = slices.Clone(p2.Files)
	altered.Files[0].Parts = slices.Clone(p2.Files[0].Parts)
	altered.Files[0].Parts[0].URL = strings.Replace(p2.Files[0].Parts[0].URL, "X-Amz-Expires=3600", "X-Amz-Expires=7200", 1)
	var r *Refused
	if _, err := Push(context.Background(), dir, altered, PushOptions{Journal: filepath.Join(t.TempDir(), "j"), Client: s.Client}); !errors.As(err, &r) || r.Code != "SignatureDoesNotMatch" || !strings.Contains(r.Error(), "altered") {
		t.Errorf("a lengthened expiry: got %v, want SignatureDoesNotMatch explained as altered", err)
	}
	past := b
	past.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	_, p3, err := past.Grant(context.Background(), GrantRequest{Prefix: "xt3", Expires: time.Hour, PartSize: 5 << 20}, m, mf)
	if err != nil {
		t.Fatal(err)
	}
	p3.Expires = time.Now().Add(time.Hour) // the file says later than the URLs do: the service decides
	if _, err := Push(context.Background(), dir, p3, PushOptions{Journal: filepath.Join(t.TempDir(), "j"), Client: s.Client}); !errors.As(err, &r) || !strings.Contains(r.Error(), "expired") {
		t.Errorf("expired URLs: got %v, want a refusal saying expired", err)
	}
	os.Remove(journal)
}

// s3rver implements neither AbortMultipartUpload nor ListParts: revocation says so and the
// grant stays live until its URLs expire, rather than being marked dead.
func TestKillerSaysWhatTheServerCannotDo(t *testing.T) {
	s := s3test.New(t)
	_, m, mf := bundleOf(t, map[string]int{"xt.dump": 100})
	b := testBucket(s)
	g, _, err := b.Grant(context.Background(), GrantRequest{Prefix: "k", Expires: time.Hour}, m, mf)
	if err != nil {
		t.Fatal(err)
	}
	l := transfer.Ledger{Dir: t.TempDir(), Log: nopLog{}}
	_, err = l.Revoke(context.Background(), &g, b.Killer(g), "transfer.revoke", nil, time.Second)
	if err == nil || !strings.Contains(err.Error(), "AbortMultipartUpload") || !g.Revoked.IsZero() {
		t.Errorf("revoke on s3rver: got %v, revoked %v; want a refusal naming AbortMultipartUpload and the grant still live", err, g.Revoked)
	}
}

type nopLog struct{}

func (nopLog) Append(_ context.Context, e audit.Entry) (audit.Entry, error) { return e, nil }
func (nopLog) Walk(context.Context, func(audit.Entry) error) error          { return nil }
