package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/derrors"
)

// Scope is what an API token may be used for. A token given to a script carries only the
// scopes it needs: read (look), query (cohort queries and patient-level data), export
// (export requests, their review and their links), admin (every other change, and minting
// tokens); every token may read. A page session and the command line are not scoped (Principal.Scopes nil).
type Scope string

const (
	ScopeRead   Scope = "read"
	ScopeQuery  Scope = "query"
	ScopeExport Scope = "export"
	ScopeAdmin  Scope = "admin"
)

// Scopes is every scope.
var Scopes = []Scope{ScopeRead, ScopeQuery, ScopeExport, ScopeAdmin}

// ParseScopes checks a list of scope names.
func ParseScopes(names []string) ([]Scope, error) {
	var out []Scope
	for _, n := range names {
		sc := Scope(n)
		if !slices.Contains(Scopes, sc) {
			return nil, fmt.Errorf("%w: unknown scope %q (want some of %v)", derrors.Invalid, n, Scopes)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func joinScopes(s []Scope) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return strings.Join(parts, " ")
}

func splitScopes(s string) []Scope {
	out := []Scope{}
	for _, f := range strings.Fields(s) {
		out = append(out, Scope(f))
	}
	return out
}

// HasScope reports whether p may act in scope: always for a session or the command line.
// Every token may read (what it queries or exports is in projects it must see).
func (p Principal) HasScope(sc Scope) bool {
	return p.Scopes == nil || sc == ScopeRead || slices.Contains(p.Scopes, sc)
}

// actionScope is the scope each action needs of a token.
var actionScope = map[Action]Scope{
	ViewProject: ScopeRead, ReadAudit: ScopeRead,
	ObfuscatedCount: ScopeQuery, ExactCount: ScopeQuery, PatientData: ScopeQuery, PatientBlobs: ScopeQuery, IdentifiedData: ScopeQuery,
	RequestExport: ScopeExport, ReceiveExport: ScopeExport, ValidateData: ScopeExport,
	// ReviewExport and ManageExporters also show parts of pages and lists: read suffices to
	// see; what changes things is also checked per route (web's scope of a route).
	ReviewExport: ScopeRead, ManageExporters: ScopeRead,
	ManageGrants: ScopeAdmin, ManageUsers: ScopeAdmin, UnlockAccount: ScopeAdmin, ReinstateAccount: ScopeAdmin,
	PersonalAccess: ScopeAdmin, RecordConsent: ScopeAdmin, ApproveEthics: ScopeAdmin, SubmitEthics: ScopeAdmin,
	MintToken: ScopeAdmin, AgencyRecords: ScopeAdmin,
}
