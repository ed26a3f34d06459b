package access

import (
	"strings"
	"testing"
)

// The whole decision table: for each principal, one mark per action in Actions order —
// Y allowed, . refused. Written out by hand; the test checks Allowed against every cell.
//
//	view obfc exact pat blobs ident reqexp review ethics grants users unlock audit | issue 8: exporters receive validate | issue 9: submit consent person | issue 18: reinstate mint agency-records
func TestAllowedEveryRoleAndAction(t *testing.T) {
	project := Project{Code: "p", Agency: "north"}
	holding := func(r Role) map[string][]Role {
		g, _ := cascade(r)
		return map[string][]Role{"p": g}
	}
	rows := []struct {
		name string
		p    Principal
		want string
	}{
		{"nobody", Principal{User: "u", Agency: "north"}, ". . . . . . . . . . . . . . . . . . . . Y ."},
		{"DATA_OBFSC", Principal{User: "u", Agency: "north", Projects: holding(DataObfsc)}, "Y Y . . . . . . . . . . . . . . Y . . . Y ."},
		{"DATA_AGG", Principal{User: "u", Agency: "north", Projects: holding(DataAgg)}, "Y Y Y . . . Y . . . . . . . . . Y . . . Y ."},
		{"DATA_LDS", Principal{User: "u", Agency: "north", Projects: holding(DataLDS)}, "Y Y Y Y . . Y . . . . . . . . . Y . . . Y ."},
		{"DATA_DEID", Principal{User: "u", Agency: "north", Projects: holding(DataDeid)}, "Y Y Y Y Y . Y . . . . . . . . . Y . . . Y ."},
		{"DATA_PROT", Principal{User: "u", Agency: "north", Projects: holding(DataProt)}, "Y Y Y Y Y Y Y . . . . . . . . . Y . . . Y ."},
		{"PROJECT_ADMIN", Principal{User: "u", Agency: "north", Projects: holding(ProjectAdmin)}, "Y . . . . . . . . Y . . . . . . Y . . . Y ."},
		{"DATA_OFFICER", Principal{User: "u", Agency: "north", Projects: holding(DataOfficer)}, "Y . . . . . . Y . . . . . . . . . . . . Y ."},
		{"ETHICS_BOARD", Principal{User: "u", Agency: "north", Projects: holding(EthicsBoard)}, "Y . . . . . . . Y . . . . . . . . . . . Y ."},
		{"SPOC", Principal{User: "u", Agency: "north", Projects: holding(SPOC)}, "Y . . . . . . . . . . . . Y . . . . . . Y ."},
		{"DATA_PUBLISHER", Principal{User: "u", Agency: "north", Projects: holding(DataPublisher)}, "Y . . . . . . . . . . . . . Y . . . . . Y ."},
		{"DATA_VALIDATOR", Principal{User: "u", Agency: "north", Projects: holding(DataValidator)}, "Y . . . . . . . . . . . . . . Y . . . . Y ."},
		{"site administrator", Principal{User: "u", Admin: true}, "Y . . . . . . . . Y Y Y Y . . . . Y Y . Y Y"},
		{"director", Principal{User: "u", Director: true}, ". . . . . . . . . . . Y Y . . . . Y . Y Y Y"},
		{"site staff DATA_AGG", Principal{User: "u", Projects: holding(DataAgg)}, "Y Y Y . . . Y . . . . . . . . . Y . . . Y ."},
		{"other agency's DATA_PROT", Principal{User: "u", Agency: "south", Projects: holding(DataProt)}, ". . . . . . . . . . . . . . . . . . . . Y ."},
		{"other agency's PROJECT_ADMIN", Principal{User: "u", Agency: "south", Projects: holding(ProjectAdmin)}, ". . . . . . . . . . . . . . . . . . . . Y ."},
		{"other agency's administrator", Principal{User: "u", Agency: "south", Admin: true}, ". . . . . . . . . . Y Y Y . . . . . Y . Y Y"},
		{"DATA_PROT in another project", Principal{User: "u", Agency: "north", Projects: map[string][]Role{"q": Track}}, ". . . . . . . . . . . . . . . . . . . . Y ."},
		{"not signed in, holding DATA_PROT", Principal{Agency: "north", Projects: holding(DataProt)}, ". . . . . . . . . . . . . . . . . . . . . ."},
	}
	for _, row := range rows {
		marks := strings.Fields(row.want)
		if len(marks) != len(Actions) {
			t.Fatalf("%s: %d marks for %d actions", row.name, len(marks), len(Actions))
		}
		for i, a := range Actions {
			want := marks[i] == "Y"
			if got := Allowed(row.p, a, project); got != want {
				t.Errorf("Allowed(%s, %s, project of north): got %v, want %v", row.name, a, got, want)
			}
		}
	}
}

// A project action without a project is refused to everyone, the administrator included.
func TestAllowedNeedsAProject(t *testing.T) {
	admin := Principal{User: "root", Admin: true, Director: true, Projects: map[string][]Role{"": Roles}}
	for _, a := range Actions {
		site := a == ManageUsers || a == UnlockAccount || a == ReadAudit || a == PersonalAccess || a == ReinstateAccount || a == MintToken || a == AgencyRecords
		if got := Allowed(admin, a, Project{}); got != site {
			t.Errorf("Allowed(administrator, %s, no project): got %v, want %v", a, got, site)
		}
	}
}

func TestCascade(t *testing.T) {
	for _, tc := range []struct {
		role           Role
		grant, revoked string
	}{
		{DataObfsc, "DATA_OBFSC", "DATA_OBFSC DATA_AGG DATA_LDS DATA_DEID DATA_PROT"},
		{DataLDS, "DATA_OBFSC DATA_AGG DATA_LDS", "DATA_LDS DATA_DEID DATA_PROT"},
		{DataProt, "DATA_OBFSC DATA_AGG DATA_LDS DATA_DEID DATA_PROT", "DATA_PROT"},
		{ProjectAdmin, "PROJECT_ADMIN", "PROJECT_ADMIN"},
	} {
		g, r := cascade(tc.role)
		if got := join(g); got != tc.grant {
			t.Errorf("grant %s adds %q, want %q", tc.role, got, tc.grant)
		}
		if got := join(r); got != tc.revoked {
			t.Errorf("revoke %s removes %q, want %q", tc.role, got, tc.revoked)
		}
	}
}

func join(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, " ")
}

// The access levels bound the roles: a district reads aggregates only in a project of the
// whole site (patient-level data only in its own agency's projects); the evaluation group
// and the highest level read what their roles allow.
func TestAllowedByLevel(t *testing.T) {
	site, own := Project{Code: "p"}, Project{Code: "q", Agency: "westhealth"}
	lds := map[string][]Role{"p": Track[:3], "q": Track[:3]}
	for _, c := range []struct {
		name string
		p    Principal
		x    Project
		want string // view obfc exact pat request
	}{
		{"district, site project", Principal{User: "wes", Agency: "westhealth", AccessLevel: LevelDistrict, District: []string{"north", "westhealth"}, Projects: lds}, site, "Y Y Y . Y"},
		{"district, own agency's project", Principal{User: "wes", Agency: "westhealth", AccessLevel: LevelDistrict, Projects: lds}, own, "Y Y Y Y Y"},
		{"evaluation group, site project", Principal{User: "ann", Agency: "north", AccessLevel: LevelEvaluationGroup, Projects: lds}, site, "Y Y Y Y Y"},
		{"database administrator level, site project", Principal{User: "tess", AccessLevel: LevelDatabaseAdministrator, Projects: lds}, site, "Y Y Y Y Y"},
	} {
		marks := strings.Fields(c.want)
		for i, a := range []Action{ViewProject, ObfuscatedCount, ExactCount, PatientData, RequestExport} {
			if got := Allowed(c.p, a, c.x); got != (marks[i] == "Y") {
				t.Errorf("%s: Allowed(%s) = %v, want %v", c.name, a, got, marks[i] == "Y")
			}
		}
	}
}
