package azure

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
)

func account(s *azuritetest.Server) Account {
	return Account{Name: azuritetest.Account, Key: azuritetest.Key, Endpoint: s.Endpoint, Client: s.Client}
}

// upload puts a small blob with the token and returns the service's answer, explained.
func upload(t *testing.T, s *azuritetest.Server, token, name string, expiry time.Time) error {
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

func TestGrantUploadRevoke(t *testing.T) {
	s := azuritetest.New(t, azuritetest.Options{})
	a := account(s)
	ctx := context.Background()
	g, tok, err := a.Grant(ctx, GrantRequest{Container: "handover", IPRange: "127.0.0.1", Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(Redact(tok))
	if err := upload(t, s, tok, "a.bin"); err != nil {
		t.Fatalf("upload with a fresh token: %v", err)
	}
	if ok, err := a.Revoke(ctx, g); err != nil || !ok {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	err = upload(t, s, tok, "b.bin")
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("upload after revoke: got %v, want a refusal", err)
	}
	t.Log(err)
}
