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
	_, good := grant(t, a, GrantRequest{})
	if err := upload(t, s, good, "ok.bin"); err != nil {
		t.Fatalf("upload with a fresh token: %v", err)
	}
	revoked, revokedTok := grant(t, a, GrantRequest{})
	if ok, err := a.Revoke(ctx, revoked); !ok || err != nil {
		t.Fatalf("revoke: %v, %v", ok, err)
	}
	expired, expiredTok := grant(t, a, GrantRequest{Duration: time.Second})
	ro, readOnly := grant(t, a, GrantRequest{Permissions: "r"})
	time.Sleep(time.Until(expired.Expiry.Add(1100 * time.Millisecond)))

	dir := azuritetest.Bundle(t, map[string]int{"db.dump": 1000})
	plain := azuritetest.New(t, azuritetest.Options{HTTP: true})
	_, httpTok, err := account(plain).grant(ctx, GrantRequest{Container: "handover", IPRange: "127.0.0.1", Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := account(plain).Grant(ctx, GrantRequest{Container: "handover", IPRange: "127.0.0.1", Duration: time.Hour}); err == nil || !strings.Contains(err.Error(), "HTTPS only") {
		t.Errorf("grant against %s: got %v, want a refusal: HTTPS only", plain.Endpoint, err)
	}

	for _, tc := range []struct {
		name   string
		s      *azuritetest.Server
		token  string
		code   string
		reason string
	}{
		{"altered sip", s, alterSigned(t, good, "sip", "127.0.0.0-127.255.255.255"), "", "altered"},
		{"added expiry", s, alterSigned(t, good, "se", "2099-01-01T00:00:00Z"), "", "altered"},
		{"altered policy id", s, alterSigned(t, good, "si", ro.ID), "", "altered"},
		{"revoked", s, revokedTok, "", "revoked"},
		{"expired", s, expiredTok, "", "expired"},
		{"missing permission", s, readOnly, "AuthorizationPermissionMismatch", "lacks a permission"},
		{"plain http", plain, httpTok, "AuthorizationProtocolMismatch", "HTTPS only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := upload(t, tc.s, tc.token, "x.bin")
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
			_, err = Push(ctx, tc.token, dir, PushOptions{Client: tc.s.Client})
			var pr *Refusal
			if !errors.As(err, &pr) || pr.Code != r.Code || pr.Reason != r.Reason {
				t.Errorf("push: got %v, want the refusal %v", err, r)
			}
		})
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
