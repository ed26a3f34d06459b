package s3

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stewardhealth/steward/internal/golden"
	"github.com/stewardhealth/steward/internal/transfer"
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

func TestPolicyGolden(t *testing.T) {
	cidrs, _ := CIDRs("203.0.113.5-203.0.113.20")
	b, err := Policy("hospital-handover", "xt/2026-11", cidrs)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "policy.json", append(b, '\n'))
}

var (
	testCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}, nil
	})
	signedAt = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	manifest = &transfer.Manifest{Files: []transfer.File{{Name: "xt.dump", Size: 123456789, SHA256: strings.Repeat("a", 64)}}}
	mf       = transfer.File{Name: transfer.ManifestName, Size: 321, SHA256: strings.Repeat("b", 64)}
)

func presign(t *testing.T) []Upload {
	t.Helper()
	p := Presigner{Bucket: "hospital-handover", Prefix: "xt/2026-11", Region: "eu-west-1", Expires: 2 * time.Hour, Credentials: testCreds, Now: func() time.Time { return signedAt }}
	ups, err := p.Presign(context.Background(), manifest, mf)
	if err != nil {
		t.Fatal(err)
	}
	return ups
}

func TestPresignGolden(t *testing.T) {
	ups := presign(t)
	var b strings.Builder
	for _, u := range ups {
		fmt.Fprintf(&b, "%s %s %d %s\n%s\n", u.Name, u.Method, u.Size, u.Expires.Format(time.RFC3339), u.URL)
		keys := make([]string, 0, len(u.Header))
		for k := range u.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %s\n", k, strings.Join(u.Header[k], ","))
		}
	}
	golden.Check(t, "presign.txt", []byte(b.String()))
}

// sigV4 computes a presigned URL's signature from the AWS documentation's algorithm,
// independently of the SDK, for the given method and host.
func sigV4(t *testing.T, u *url.URL, method, host string, header http.Header) string {
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
	key := []byte("AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	for _, part := range []string{date[:8], "eu-west-1", "s3", "aws4_request", toSign} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(part))
		key = m.Sum(nil)
	}
	return hex.EncodeToString(key)
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func TestPresignedURLIsBoundToObjectMethodAndExpiry(t *testing.T) {
	for _, up := range presign(t) {
		u, err := url.Parse(up.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if got := q.Get("X-Amz-Expires"); got != "7200" {
			t.Errorf("%s: X-Amz-Expires %s, want 7200", up.Name, got)
		}
		if u.Host != "hospital-handover.s3.eu-west-1.amazonaws.com" || u.Path != "/xt/2026-11/"+up.Name || u.Scheme != "https" {
			t.Errorf("%s: URL %s://%s%s, want https to the bucket's host, key under the prefix", up.Name, u.Scheme, u.Host, u.Path)
		}
		if !strings.Contains(";"+q.Get("X-Amz-SignedHeaders")+";", ";host;") {
			t.Errorf("%s: host is not signed: %s", up.Name, q.Get("X-Amz-SignedHeaders"))
		}
		if up.Method != http.MethodPut {
			t.Errorf("%s: method %s, want PUT", up.Name, up.Method)
		}
		h := up.Header.Clone()
		h.Set("Content-Length", fmt.Sprint(up.Size))
		sig := q.Get("X-Amz-Signature")
		if got := sigV4(t, u, "PUT", u.Host, h); got != sig {
			t.Errorf("%s: signature %s, the documented algorithm gives %s", up.Name, sig, got)
		}
		if sigV4(t, u, "GET", u.Host, h) == sig || sigV4(t, u, "PUT", "other-bucket.s3.eu-west-1.amazonaws.com", h) == sig {
			t.Errorf("%s: the signature does not depend on the method and host", up.Name)
		}
	}
	if _, err := (Presigner{Bucket: "b", Region: "r", Expires: 8 * 24 * time.Hour, Credentials: testCreds}).Presign(context.Background(), manifest, mf); err == nil {
		t.Error("an 8-day expiry was accepted")
	}
}

// TestUploadsPut sends a file to an HTTP server standing in for the presigned URL's host:
// what reaches it is the file, its length and the signed headers; a refusal gives S3's code
// and never the URL (which holds the signature).
func TestUploadsPut(t *testing.T) {
	var got []byte
	var gotLen int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("refuse") != "" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>…</Message></Error>")
			return
		}
		got, _ = io.ReadAll(r.Body)
		gotLen = r.ContentLength
	}))
	defer srv.Close()
	body := "0123456789"
	f := transfer.File{Name: "a.dump", Size: int64(len(body))}
	sum := sha256.Sum256([]byte(body))
	f.SHA256 = hex.EncodeToString(sum[:])
	later := time.Now().Add(time.Hour)
	d := Uploads{ByName: map[string]Upload{
		"a.dump": {Name: "a.dump", Method: "PUT", URL: srv.URL + "/a.dump?X-Amz-Signature=secret", Expires: later},
		"b.dump": {Name: "b.dump", Method: "PUT", URL: srv.URL + "/b.dump?refuse=1&X-Amz-Signature=secret", Expires: later},
		"c.dump": {Name: "c.dump", Method: "PUT", URL: srv.URL + "/c.dump", Expires: time.Now().Add(-time.Minute)},
	}}
	if err := d.Put(context.Background(), "a.dump", transfer.Verified(strings.NewReader(body), f), f.Size); err != nil {
		t.Fatal(err)
	}
	if string(got) != body || gotLen != f.Size {
		t.Errorf("server got %q (length %d), want %q", got, gotLen, body)
	}
	for name, want := range map[string]string{"b.dump": "403 Forbidden AccessDenied", "c.dump": "expired", "d.dump": "no presigned URL"} {
		err := d.Put(context.Background(), name, strings.NewReader(body), int64(len(body)))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("put %s: got %v, want an error with %q and no signature", name, err, want)
		}
	}
}
