// Package azure hands a bundle over through Azure Blob Storage with a revocable
// shared-access token.
//
// The vendor holds the storage account key. Grant creates (or reuses) a dedicated container,
// adds a stored access policy with a fresh random identifier — never reused, because
// re-creating a deleted identifier revives every token minted for it — and mints a service
// SAS for the container that names the policy (si), allows HTTPS only (spr=https) and the
// client's address range (sip). The policy holds the permissions and the expiry (duration of
// the backup plus a margin), so the policy alone decides what the token may do and until
// when: deleting it, or moving its expiry into the past, kills the token, and nothing in the
// token can outlive it. The token's fields are signed with the account key, so changing any
// of them (sip included) breaks the signature.
//
// Permissions are read, create and write on the container (rcw), no list and no delete:
// create and write stage and commit blocks; read lets a resumed push ask the service which
// blocks it already holds (Get Block List) and whether a file is already complete (Get Blob
// Properties). The container is dedicated to the one hand-over, so read only returns what the
// token's holder uploaded. A grant with permissions cw leaves read out; push then uploads
// every block again after an interruption.
//
// The client (DBA) pushes the bundle with the token: each file as a block blob in fixed-size
// blocks whose ids derive from the file's SHA-256 in the manifest, the block size and the
// block index, so a rerun finds the blocks an interrupted run staged and sends only the
// others; manifest.json goes last, so its presence means the upload finished. Confirm
// compares the blobs with the manifest (size and SHA-256, by streaming each blob), then
// revokes; revoking proves the token dead by trying an upload with it and expecting a refusal.
package azure

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// clientOptions retries transient failures (timeouts, throttling, 5xx, dropped
// connections) with exponential backoff, through hc when not nil.
func clientOptions(hc *http.Client) *container.ClientOptions {
	o := &container.ClientOptions{}
	o.Retry = policy.RetryOptions{MaxRetries: 6, RetryDelay: time.Second, MaxRetryDelay: 30 * time.Second, TryTimeout: 5 * time.Minute}
	if hc != nil {
		o.Transport = hc
	}
	return o
}

var sigRE = regexp.MustCompile(`(?i)(sig=)[^&\s"']*`)

// Redact hides a SAS signature in s (a URL, an error message).
func Redact(s string) string { return sigRE.ReplaceAllString(s, "${1}REDACTED") }

// Refusal is the service refusing a token, explained for the person holding it.
type Refusal struct {
	Code   string // the service's error code
	Reason string // what is wrong with the token
	Ask    string // what to ask the vendor for
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("the storage service refused the token (%s): %s; %s", r.Code, r.Reason, r.Ask)
}

// ServiceError is the storage service's answer in one line: its code and message, without the
// request and response dump of the SDK's error.
type ServiceError struct {
	Status  int
	Code    string
	Message string
	err     error
}

func (e *ServiceError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("the storage service answered %d %s", e.Status, e.Code)
	}
	return fmt.Sprintf("the storage service answered %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *ServiceError) Unwrap() error { return e.err }

var messageRE = regexp.MustCompile(`<Message>([^\n<]*)`)

// brief shortens an error from the service to a ServiceError; other errors come back unchanged.
func brief(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	e := &ServiceError{Status: re.StatusCode, Code: re.ErrorCode, err: err}
	if re.RawResponse != nil {
		body, _ := runtime.Payload(re.RawResponse)
		if m := messageRE.FindSubmatch(body); m != nil {
			e.Message = strings.TrimSpace(string(m[1]))
		}
	}
	return e
}

// Explain turns a service refusal of a token into a Refusal; other errors come back
// unchanged. expiry is the token's se when it has one (Steward's tokens keep the expiry in
// the policy, where the token holder cannot see it).
func Explain(err error, expiry time.Time) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		return brief(err)
	}
	detail := ""
	if re.RawResponse != nil {
		body, _ := runtime.Payload(re.RawResponse)
		if m := detailRE.FindSubmatch(body); m != nil {
			detail = strings.ToLower(string(m[1]))
		}
	}
	r := &Refusal{Code: re.ErrorCode}
	switch bloberror.Code(re.ErrorCode) {
	case bloberror.AuthorizationProtocolMismatch:
		r.Reason = "HTTPS only: the token allows HTTPS alone and this request used plain HTTP"
		r.Ask = "use the https:// address from the token file as the vendor sent it; if the storage is only reachable over HTTP, ask the vendor for an HTTPS endpoint"
	case bloberror.AuthorizationSourceIPMismatch:
		r.Reason = "this machine's public (egress) address is outside the token's IP range (sip)"
		r.Ask = "ask the vendor for a token whose IP range covers your egress address (your network team knows it)"
	case bloberror.AuthorizationPermissionMismatch:
		r.Reason = "permission missing: the token lacks a permission this step needs"
		r.Ask = "ask the vendor for an upload token with create and write permissions (and read, so that an interrupted upload can resume)"
	default: // AuthenticationFailed, AuthorizationFailure: signature, time or policy
		switch {
		case !expiry.IsZero() && !time.Now().Before(expiry), strings.Contains(detail, "expir"), strings.Contains(detail, "time frame"):
			r.Reason = "expired: the token's policy has expired"
			if !expiry.IsZero() {
				r.Reason += " (at " + expiry.UTC().Format("2006-01-02 15:04 MST") + ")"
			}
			r.Ask = "ask the vendor for a new token with a longer duration"
		case strings.Contains(detail, "signature did not match"):
			r.Reason = "signature does not match (altered or wrong account key): the token was altered or cut short, or signed with another key than the account's (rotated)"
			r.Ask = "use the token file exactly as the vendor sent it, or ask the vendor for a new token"
		case strings.Contains(detail, "identifier") || strings.Contains(detail, "policy"):
			r.Reason = "revoked (no such policy): the vendor deleted the token's stored access policy"
			r.Ask = "ask the vendor whether the upload was meant to end; if not, ask for a new token"
		default:
			r.Reason = "revoked (no such policy), or signature does not match (altered or wrong account key): the service does not say which"
			r.Ask = "ask the vendor to run `steward transfer diagnose --grant ID` (the grant id is in the token file's comment line), which tells which with the account key"
		}
	}
	return r
}

var detailRE = regexp.MustCompile(`(?s)<AuthenticationErrorDetail>(.*?)</AuthenticationErrorDetail>`)
