// Package access decides who may do what in the Steward server.
//
// People are users, each belonging to an agency (or to none, for the site's own staff);
// agencies belong to regions. Work happens in projects, which may belong to an agency. In
// each project a user holds roles:
//
//   - the data-protection track, least to most: DATA_OBFSC (obfuscated counts), DATA_AGG
//     (exact counts), DATA_LDS (patient-level data without the encrypted blob columns),
//     DATA_DEID (with them), DATA_PROT (identified data). As in i2b2's PM cell the track is
//     stored cascaded: granting a role grants every lower one, revoking a role revokes every
//     higher one, so a user's level is the highest role held.
//   - PROJECT_ADMIN manages the project's grants; DATA_OFFICER (a data-governance officer)
//     reviews export requests; ETHICS_BOARD approves ethics applications. These stand alone:
//     none implies data access.
//
// Two roles are site-wide, held on the user: the steward administrator manages users,
// agencies, regions and projects, lifts locks for failed sign-ins and reads the audit log; a
// director is mailed every lock and refused access, reinstates accounts locked for refused
// access (seed 002: "the user must contact the Director") and may read the audit log.
// Neither sees data without a grant.
//
// Each user also has CORI's access level (levels.go): evaluation group (their agency),
// district (their region's agencies, aggregates only), database administrator (every
// agency; CORI's own staff). The level bounds what the roles reach.
//
// Agencies see only their own records: a user of an agency is refused every action on a
// project of another agency — as not found, the same answer as for a project that does not
// exist — and lists (users, projects, audit entries) are cut to their agency. Site staff (no
// agency) are not cut.
//
// An API token carries scopes (scopes.go); a page session and the command line do not.
//
// Allowed is the one decision: may principal P do action A in project X. Every handler,
// page and route asks it; its test covers every role, level and action. Refused requests are
// recorded and counted (watch.go), and failed sign-ins locked per account and address
// (signin.go), so that what is refused is evidence too.
package access

import (
	"fmt"
	"slices"

	"github.com/stewardhealth/steward/internal/derrors"
)

// Role is a role held in a project.
type Role string

const (
	DataObfsc    Role = "DATA_OBFSC"
	DataAgg      Role = "DATA_AGG"
	DataLDS      Role = "DATA_LDS"
	DataDeid     Role = "DATA_DEID"
	DataProt     Role = "DATA_PROT"
	ProjectAdmin Role = "PROJECT_ADMIN"
	DataOfficer  Role = "DATA_OFFICER"
	EthicsBoard  Role = "ETHICS_BOARD"

	// Issue 8 (export requests): the SPOC keeps the list of users who may request exports;
	// a data publisher (at most MaxPublishers per bunker project) verifies and receives
	// exports from a bunker, where the analyst is not known; a data validator has the
	// validation environment only. DATA_OFFICER is the data-governance officer.
	SPOC          Role = "SPOC"
	DataPublisher Role = "DATA_PUBLISHER"
	DataValidator Role = "DATA_VALIDATOR"
)

// MaxPublishers is how many data publishers a project may have (issue 8).
const MaxPublishers = 2

// Track is the data-protection track, least access first.
var Track = []Role{DataObfsc, DataAgg, DataLDS, DataDeid, DataProt}

// Roles is every project role, the track first.
var Roles = append(slices.Clone(Track), ProjectAdmin, DataOfficer, EthicsBoard, SPOC, DataPublisher, DataValidator)

// Level is the role's place on the track counting from 1, or 0 for a role off the track.
func (r Role) Level() int { return slices.Index(Track, r) + 1 }

// ParseRole checks that s names a project role.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("%w: unknown role %q (want one of %v)", derrors.Invalid, s, Roles)
}

// Action is something a principal asks to do.
type Action string

const (
	ViewProject     Action = "view_project"     // see the project and its own roles in it
	ObfuscatedCount Action = "obfuscated_count" // cohort counts with noise
	ExactCount      Action = "exact_count"      // exact counts and breakdowns
	PatientData     Action = "patient_data"     // patient-level data, blob columns left out
	PatientBlobs    Action = "patient_blobs"    // patient-level data with blob columns
	IdentifiedData  Action = "identified_data"  // names, record numbers, addresses
	RequestExport   Action = "request_export"   // ask for aggregated outputs to leave
	ReviewExport    Action = "review_export"    // approve or reject an export request
	ApproveEthics   Action = "approve_ethics"   // decide an ethics application
	ManageGrants    Action = "manage_grants"    // grant and revoke roles in the project
	ManageUsers     Action = "manage_users"     // users, agencies, regions, projects (site)
	UnlockAccount   Action = "unlock_account"   // list locks; lift a lock for failed sign-ins, or ask a director to (site)
	// ReinstateAccount lifts a lock for refused access (suspected unauthorized access): the
	// seed's "the user must contact the Director of the CORI to reinstate the user's access".
	ReinstateAccount Action = "reinstate_account"
	// MintToken makes an API token: any signed-in user for themself, but a token only when it
	// carries the admin scope (a script's token cannot make itself more tokens).
	MintToken Action = "mint_token"
	// AgencyRecords answers an agency's clients' corrections and records their consent: the
	// agency's director or an administrator (who must also see the agency).
	AgencyRecords Action = "agency_records"
	ReadAudit     Action = "read_audit" // read the audit log (site)

	// Issue 8 (export requests).
	ManageExporters Action = "manage_exporters" // SPOC: who may request exports, automatic or validated
	ReceiveExport   Action = "receive_export"   // data publisher: verify and receive bunker exports
	ValidateData    Action = "validate_data"    // data validator: the validation environment
	// Issue 9, governance:
	SubmitEthics   Action = "submit_ethics"   // submit an ethics application in the project (its investigators)
	RecordConsent  Action = "record_consent"  // record an agency's or region's consent (administrators, directors)
	PersonalAccess Action = "personal_access" // one person's report and their corrections (site)
)

// Actions is the whole vocabulary.
var Actions = []Action{ViewProject, ObfuscatedCount, ExactCount, PatientData, PatientBlobs, IdentifiedData,
	RequestExport, ReviewExport, ApproveEthics, ManageGrants, ManageUsers, UnlockAccount, ReadAudit,
	ManageExporters, ReceiveExport, ValidateData, // issue 8
	SubmitEthics, RecordConsent, PersonalAccess, // issue 9
	ReinstateAccount, MintToken, AgencyRecords, // issue 18
}

// trackNeed is the track level each data action needs.
var trackNeed = map[Action]int{
	ObfuscatedCount: DataObfsc.Level(), ExactCount: DataAgg.Level(), PatientData: DataLDS.Level(),
	PatientBlobs: DataDeid.Level(), IdentifiedData: DataProt.Level(), RequestExport: DataAgg.Level(),
}

// Principal is a signed-in user with what they hold.
type Principal struct {
	User     string
	Source   string // the address the request came from, or "cli"
	Agency   string // "" for the site's own staff
	Admin    bool   // steward administrator
	Director bool
	Projects map[string][]Role // project code → roles held (the track cascaded)
	Scopes   []Scope           // an API token's scopes; nil for a page session or the command line
	// AccessLevel is CORI's access level (levels.go); District the agencies of the user's
	// region when it is LevelDistrict.
	AccessLevel Level
	District    []string
}

// Project is what Allowed needs to know of a project.
type Project struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Agency string `json:"agency,omitempty"` // "" for a project of the whole site
}

// Level is the principal's highest track role in the project, 0 for none.
func (p Principal) Level(project string) int {
	l := 0
	for _, r := range p.Projects[project] {
		l = max(l, r.Level())
	}
	return l
}

// Has reports whether the principal holds role r in the project.
func (p Principal) Has(project string, r Role) bool {
	return slices.Contains(p.Projects[project], r)
}

// Sees reports whether the principal may see records of the agency: site staff see every
// agency's, an agency's users only their own and the site's.
func (p Principal) Sees(agency string) bool {
	return p.Agency == "" || agency == "" || agency == p.Agency
}

// Allowed reports whether p may do a in project x. Site actions (manage users, unlock,
// read audit) ignore x; every other action needs a project.
func Allowed(p Principal, a Action, x Project) bool {
	if p.User == "" || !p.HasScope(actionScope[a]) {
		return false
	}
	switch a {
	case MintToken:
		return true
	case ManageUsers, PersonalAccess:
		return p.Admin
	case ReadAudit, UnlockAccount, AgencyRecords:
		return p.Admin || p.Director
	case ReinstateAccount:
		return p.Director
	}
	if x.Code == "" || !p.Sees(x.Agency) {
		return false
	}
	// At district level, a project of the whole site reads every agency of the district:
	// aggregates only (seed 002), whatever the roles held.
	if x.Agency == "" && p.level() == LevelDistrict && !aggregate[a] {
		return false
	}
	switch a {
	case ViewProject:
		return p.Admin || len(p.Projects[x.Code]) > 0
	case ManageGrants:
		return p.Admin || p.Has(x.Code, ProjectAdmin)
	case ReviewExport:
		return p.Has(x.Code, DataOfficer)
	case ApproveEthics:
		return p.Has(x.Code, EthicsBoard)
	case ManageExporters: // issue 8
		return p.Has(x.Code, SPOC)
	case ReceiveExport:
		return p.Has(x.Code, DataPublisher)
	case ValidateData:
		return p.Has(x.Code, DataValidator)
	case SubmitEthics: // issue 9
		return p.Level(x.Code) > 0 || p.Has(x.Code, ProjectAdmin)
	case RecordConsent: // issue 9
		return p.Admin || p.Director
	}
	need, ok := trackNeed[a]
	return ok && p.Level(x.Code) >= need
}

// Check is Allowed as an error: derrors.Forbidden naming the action and project.
func Check(p Principal, a Action, x Project) error {
	if Allowed(p, a, x) {
		return nil
	}
	if x.Code == "" {
		return fmt.Errorf("%w: %s", derrors.Forbidden, a)
	}
	return fmt.Errorf("%w: %s in project %s", derrors.Forbidden, a, x.Code)
}

// cascade returns the rows a grant of r adds (r and, on the track, every lower role) and
// the rows a revoke of r removes (r and, on the track, every higher role).
func cascade(r Role) (grant, revoke []Role) {
	l := r.Level()
	if l == 0 {
		return []Role{r}, []Role{r}
	}
	return Track[:l], Track[l-1:]
}
