package azure

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
)

func account(s *azuritetest.Server) Account {
	return Account{Name: azuritetest.Account, Key: azuritetest.Key, Endpoint: s.Endpoint, Client: s.Client}
}

// upload puts a small blob with the token and returns the service's answer, explained.
func upload(t *testing.T, s *azuritetest.Server, token, name string) error {
	t.Helper()
	c, err := container.NewClientWithNoCredential(token, clientOptions(s.Client))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(strings.NewReader("hello")), nil)
	return Explain(err, TokenExpiry(token))
}

func grant(t *testing.T, a Account, req GrantRequest) (Grant, string) {
	t.Helper()
	if req.Container == "" {
		req.Container = "handover"
	}
	if req.IPRange == "" {
		req.IPRange = "127.0.0.1"
	}
	if req.Duration == 0 {
		req.Duration = time.Hour
	}
	g, tok, err := a.Grant(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return g, tok
}

func TestGrantToken(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	before := time.Now().UTC().Truncate(time.Second)
	g, tok := grant(t, a, GrantRequest{IPRange: "203.0.113.0-203.0.113.255", Duration: 3 * time.Hour, Margin: 2 * time.Hour})
	u, err := url.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{"si": g.ID, "spr": "https", "sip": "203.0.113.0-203.0.113.255", "sr": "c", "sp": "", "se": ""} {
		if got := q.Get(k); got != want {
			t.Errorf("token %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(tok, s.Endpoint+"/handover?") {
		t.Errorf("token %s does not address container handover at %s", Redact(tok), s.Endpoint)
	}
	c, _, _ := a.container("handover")
	acl, err := c.GetAccessPolicy(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(acl.SignedIdentifiers) != 1 || *acl.SignedIdentifiers[0].ID != g.ID {
		t.Fatalf("policies after grant: got %d, want one, %s", len(acl.SignedIdentifiers), g.ID)
	}
	p := acl.SignedIdentifiers[0].AccessPolicy
	if *p.Permission != "rcw" {
		t.Errorf("policy permissions %q, want rcw", *p.Permission)
	}
	if lo, hi := before.Add(5*time.Hour), time.Now().Add(5*time.Hour); p.Expiry.Before(lo) || p.Expiry.After(hi) || !g.Expiry.Equal(*p.Expiry) {
		t.Errorf("policy expires %s (record %s), want 5h from now (%s..%s)", p.Expiry, g.Expiry, lo, hi)
	}
	again, err := a.Token(g)
	if err != nil || again != tok {
		t.Errorf("minting the token again from the record gave a different token (err %v)", err)
	}
	if strings.Contains(Redact(tok), q.Get("sig")) {
		t.Errorf("Redact left the signature in %s", Redact(tok))
	}
}

func TestParseIPRange(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"203.0.113.7", "203.0.113.7", ""},
		{"203.0.113.0-203.0.113.255", "203.0.113.0-203.0.113.255", ""},
		{" 10.0.0.1 - 10.0.0.1 ", "10.0.0.1", ""},
		{"10.0.0.9-10.0.0.1", "", "end is below the start"},
		{"10.0.0.0/24", "", "want an IPv4 address"},
		{"2001:db8::1", "", "want an IPv4 address"},
		{"", "", "want an IPv4 address"},
	} {
		r, err := ParseIPRange(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseIPRange(%q): got error %v, want one saying %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseIPRange(%q) = %q, %v; want %q", tc.in, r.String(), err, tc.want)
		}
	}
}

// TestRefusals shows that the service refuses each kind of bad token, and that the refusal
// is explained as that kind.
func TestRefusals(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	ctx := context.Background()
	g0, good := grant(t, a, GrantRequest{})
	if err := upload(t, s, good, "ok.bin"); err != nil {
		t.Fatalf("upload with a fresh token: %v", err)
	}
	revoked, revokedTok := grant(t, a, GrantRequest{})
	if ok, err := a.Revoke(ctx, revoked); !ok || err != nil {
		t.Fatalf("revoke: %v, %v", ok, err)
	}
	expired, expiredTok := grant(t, a, GrantRequest{Duration: time.Second})
	ro, _ := grant(t, a, GrantRequest{Permissions: "r"})
	time.Sleep(time.Until(expired.Expiry.Add(1100 * time.Millisecond)))

	dir := azuritetest.Bundle(t, map[string]int{"db.dump": 1000})
	plain := azuritetest.New(t, azuritetest.Options{HTTP: true})
	httpGrant, httpTok, err := account(plain).grant(ctx, GrantRequest{Container: "handover", IPRange: "127.0.0.1", Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := account(plain).Grant(ctx, GrantRequest{Container: "handover", IPRange: "127.0.0.1", Duration: time.Hour}); err == nil || !strings.Contains(err.Error(), "HTTPS only") {
		t.Errorf("grant against %s: got %v, want a refusal: HTTPS only", plain.Endpoint, err)
	}

	otherKey := a
	otherKey.Key = "b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk="
	signedElsewhere, _ := otherKey.Token(g0)
	narrowed, narrowedTok := grant(t, a, GrantRequest{})
	narrow(t, a, narrowed, "r")
	for _, tc := range []struct {
		name   string
		s      *azuritetest.Server
		token  string
		expiry time.Time // what the token file's comment line says
		code   string
		reason string // what push and an upload say
		g      *Grant // the grant Diagnose is asked about, nil for none
		class  string // what Diagnose finds
		detail string
	}{
		{"altered sip", s, alterSigned(t, good, "sip", "127.0.0.0-127.255.255.255"), time.Time{}, "", "signature does not match (altered or wrong account key)", &g0, "signature", "altered"},
		{"added expiry", s, alterSigned(t, good, "se", "2099-01-01T00:00:00Z"), time.Time{}, "", "signature does not match", &g0, "signature", "signed field(s) se differ"},
		{"altered policy id", s, alterSigned(t, good, "si", ro.ID), time.Time{}, "", "signature does not match", &g0, "signature", "signed field(s) si differ"},
		{"wrong account key", s, signedElsewhere, time.Time{}, "", "signature does not match (altered or wrong account key)", &g0, "signature", "wrong account key"},
		{"revoked", s, revokedTok, time.Time{}, "", "revoked (no such policy)", &revoked, "revoked", "no stored access policy " + revoked.ID},
		{"expired", s, expiredTok, expired.Expiry, "", "expired", &expired, "expired", "expiry passed"},
		{"missing permission", s, narrowedTok, time.Time{}, "AuthorizationPermissionMismatch", "permission missing", &narrowed, "permission", "missing cw"},
		{"plain http", plain, httpTok, time.Time{}, "AuthorizationProtocolMismatch", "HTTPS only", &httpGrant, "https", "HTTPS only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := uploadExplained(t, tc.s, tc.token, "x.bin", tc.expiry)
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("got %v, want a refusal", err)
			}
			if tc.code != "" && r.Code != tc.code {
				t.Errorf("code %s, want %s", r.Code, tc.code)
			}
			if !strings.Contains(r.Error(), tc.reason) || r.Ask == "" {
				t.Errorf("got %q, want it to say %q and what to ask for", r.Error(), tc.reason)
			}
			// Push meets the same refusal, explained the same way.
			_, err = Push(ctx, tc.token, dir, PushOptions{Client: tc.s.Client, Expiry: tc.expiry})
			var pr *Refusal
			if !errors.As(err, &pr) || pr.Code != r.Code || pr.Reason != r.Reason {
				t.Errorf("push: got %v, want the refusal %v", err, r)
			}
			// The vendor's diagnosis, computed with the account key, names the one class.
			da := a
			if tc.s == plain {
				da = account(plain)
			}
			fs, err := da.Diagnose(ctx, *tc.g, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].Class != tc.class || !strings.Contains(fs[0].Reason, tc.detail) {
				t.Errorf("diagnose: got %v, want one finding %s saying %q", fs, tc.class, tc.detail)
			}
		})
	}
	if fs, err := a.Diagnose(ctx, g0, good); err != nil || len(fs) != 0 {
		t.Errorf("diagnose of a good token: %v, %v; want no finding", fs, err)
	}
}

// narrow sets the permissions of g's policy to p, as someone editing the container's ACL would.
func narrow(t *testing.T, a Account, g Grant, p string) {
	c, _, _ := a.container(g.Container)
	acl, err := c.GetAccessPolicy(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, si := range acl.SignedIdentifiers {
		if *si.ID == g.ID {
			si.AccessPolicy.Permission = &p
		}
	}
	if _, err := c.SetAccessPolicy(context.Background(), &container.SetAccessPolicyOptions{ContainerACL: acl.SignedIdentifiers}); err != nil {
		t.Fatal(err)
	}
}

func uploadExplained(t *testing.T, s *azuritetest.Server, token, name string, expiry time.Time) error {
	t.Helper()
	c, err := container.NewClientWithNoCredential(token, clientOptions(s.Client))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.NewBlockBlobClient(name).Upload(ctx, streaming.NopCloser(strings.NewReader("hello")), nil)
	return Explain(err, expiry)
}

// A token file's comment line gives the policy's expiry and a checksum of the token: an
// altered token is told apart before the service is asked.
func TestTokenFile(t *testing.T) {
	g := Grant{Record: transfer.Record{ID: "sg-0123456789abcdef", Expiry: time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)}}
	tok := "https://acct.blob.core.windows.net/xt?sv=2025-01-05&si=sg-0123456789abcdef&spr=https&sr=c&sig=abc%2B"
	f := ParseTokenFile([]byte(FormatTokenFile(g, tok)))
	if f.Token != tok || f.Grant != g.ID || !f.Expiry.Equal(g.Expiry) || f.Altered() {
		t.Errorf("round trip: got %+v, want the token, the grant, its expiry, unaltered", f)
	}
	cut := ParseTokenFile([]byte(strings.Replace(FormatTokenFile(g, tok), "sig=abc%2B", "sig=abc", 1)))
	if !cut.Altered() {
		t.Error("a token cut short is not told apart by its checksum")
	}
	if bare := ParseTokenFile([]byte(tok + "\n")); bare.Token != tok || bare.Altered() || !bare.Expiry.IsZero() {
		t.Errorf("a bare token: %+v", bare)
	}
}

// alterSigned changes the token's signed field k to v without signing it again.
func alterSigned(t *testing.T, tok, k, v string) string {
	u, _ := url.Parse(tok)
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestExplainCodes(t *testing.T) {
	for _, tc := range []struct{ code, body, want string }{
		{"AuthorizationSourceIPMismatch", "", "outside the token's IP range"},
		{"AuthorizationProtocolMismatch", "", "HTTPS only"},
		{"AuthorizationPermissionMismatch", "", "lacks a permission"},
		{"AuthenticationFailed", "<Error><AuthenticationErrorDetail>Signed expiry time [Mon, 23 Nov 2026 10:00:00 GMT] must be after signed start time</AuthenticationErrorDetail></Error>", "expired"},
		{"AuthenticationFailed", "<Error><AuthenticationErrorDetail>Signature did not match. String to sign used was …</AuthenticationErrorDetail></Error>", "altered"},
		{"AuthenticationFailed", "<Error><Message>… including the signature.</Message></Error>", "revoked"},
	} {
		resp := &http.Response{StatusCode: 403, Header: http.Header{"X-Ms-Error-Code": {tc.code}}, Body: http.NoBody,
			Request: &http.Request{Method: "PUT", URL: &url.URL{Scheme: "https", Host: "a.blob.core.windows.net", Path: "/c/b"}}}
		if tc.body != "" {
			resp.Body = ioNopCloser(tc.body)
		}
		err := Explain(runtime.NewResponseError(resp), time.Now().Add(time.Hour))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: got %v, want it to say %q", tc.code, tc.body, err, tc.want)
		}
	}
}

func TestPolicyLimit(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	ctx := context.Background()
	var gs []Grant
	for range MaxPolicies {
		g, _ := grant(t, a, GrantRequest{})
		gs = append(gs, g)
	}
	_, _, err := a.Grant(ctx, GrantRequest{Container: "handover", IPRange: "127.0.0.1", Duration: time.Hour})
	if err == nil || !strings.Contains(err.Error(), "already holds 5 stored access policies") {
		t.Fatalf("sixth grant: got %v, want a refusal naming the limit", err)
	}
	if _, err := a.Revoke(ctx, gs[2]); err != nil {
		t.Fatal(err)
	}
	g6, _ := grant(t, a, GrantRequest{})
	ids, err := a.Policies(ctx, "handover")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{gs[0].ID, gs[1].ID, gs[3].ID, gs[4].ID, g6.ID}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("policies: got %v, want %v (the others kept, the revoked one gone)", ids, want)
	}
	seen := map[string]bool{}
	for _, g := range append(gs, g6) {
		if seen[g.ID] {
			t.Errorf("policy id %s used twice", g.ID)
		}
		seen[g.ID] = true
	}
}

func ioNopCloser(s string) *nopReadCloser { return &nopReadCloser{strings.NewReader(s)} }

type nopReadCloser struct{ *strings.Reader }

func (nopReadCloser) Close() error { return nil }

func TestPermissions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{{"", "rcw"}, {"wc", "cw"}, {"lwcr", "rcwl"}, {"rcwx", ""}, {"RCW", ""}} {
		got, err := permissions(tc.in)
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("permissions(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestGrantRefusesBadInput(t *testing.T) {
	a := Account{Name: azuritetest.Account, Key: azuritetest.Key, Endpoint: "https://127.0.0.1:1/devstoreaccount1"}
	for _, tc := range []struct {
		req  GrantRequest
		want string
	}{
		{GrantRequest{Container: "xt", IPRange: "127.0.0.1", Duration: time.Hour}, "container name"},
		{GrantRequest{Container: "XT-deid", IPRange: "127.0.0.1", Duration: time.Hour}, "container name"},
		{GrantRequest{Container: "xt--deid", IPRange: "127.0.0.1", Duration: time.Hour}, "container name"},
		{GrantRequest{Container: "xt-deid", IPRange: "127.0.0.300", Duration: time.Hour}, "client IP"},
		{GrantRequest{Container: "xt-deid", IPRange: "127.0.0.1"}, "duration must be positive"},
		{GrantRequest{Container: "xt-deid", IPRange: "127.0.0.1", Duration: time.Hour, Permissions: "rwx"}, "permissions"},
	} {
		if _, _, err := a.Grant(context.Background(), tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Grant(%+v): got %v, want an error about %s", tc.req, err, tc.want)
		}
	}
}
