package detect

import (
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"pt_fname", []string{"pt", "fname"}},
		{"PtFName", []string{"pt", "f", "name"}},
		{"patientMRN", []string{"patient", "mrn"}},
		{"HTTPServerName", []string{"http", "server", "name"}},
		{"ip-addr2", []string{"ip", "addr", "2"}},
		{"ADD_LINE_1", []string{"add", "line", "1"}},
		{"", nil},
	} {
		if got := Tokens(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestColumn(t *testing.T) {
	for _, tc := range []struct {
		table, column string
		want          Class
		prefix        string
	}{
		{"patient", "pt_fname", FirstName, ""},
		{"patient", "PtFName", FirstName, ""},
		{"patient", "given_name", FirstName, ""},
		{"patient", "pat_last_name", LastName, ""},
		{"patient", "maiden_name", LastName, ""},
		{"patient", "last_updated", EventDate, ""},
		{"patient", "dob", BirthDate, ""},
		{"patient", "DateOfBirth", BirthDate, ""},
		{"patient", "yob", BirthYear, ""},
		{"patient", "mrn", RecordNo, ""},
		{"patient", "medical_record_number", RecordNo, ""},
		{"account", "acct_no", RecordNo, ""},
		{"account", "account_type", Neutral, ""},
		{"encounter", "fin", RecordNo, ""},
		{"patient", "ssn", SSNClass, ""},
		{"patient", "home_phone", PhoneClass, ""},
		{"patient", "email_address", EmailClass, ""},
		{"patient", "email_verified_flag", Neutral, ""},
		{"workstation", "ws_name", HostClass, ""},
		{"server", "ip_addr", IPClass, ""},
		{"server", "fqdn", HostClass, ""},
		{"server", "server_id", Key, ""},
		{"endpoint", "base_url", URLClass, ""},
		{"workstation", "mac_address", DeviceID, ""},
		{"patient", "zip_code", ZIPClass, ""},
		{"patient", "sex_c", Sex, ""},
		{"patient", "gender_code", Sex, ""},
		{"encounter", "admit_dt", Admission, ""},
		{"encounter", "admit_reason", Description, ""},
		{"encounter", "attending", PersonRef, ""},
		{"transport", "requested_by", PersonRef, ""},
		{"audit", "user_name", Username, ""},
		{"encounter", "patient_id", SubjectID, ""},
		{"campus", "campus_name", Org, "Campus"},
		{"visit", "facility_code", Org, "Facility"},
		{"campus", "name", Name, "Campus"},
		{"specimen", "site", Site, "Site"},
		{"note", "note_text", Notes, ""},
		{"problem", "dx_code", Neutral, ""},
		{"bed", "status", Neutral, ""},
		{"patient", "age", Age, ""},
		{"patient", "address1", Address, ""},
		{"payer", "claims_address_state", Neutral, ""},
	} {
		got := Column(tc.table, tc.column)
		if got.Class != tc.want || tc.prefix != "" && got.Prefix != tc.prefix {
			t.Errorf("Column(%q, %q) = %q (prefix %q), want %q (prefix %q)", tc.table, tc.column, got.Class, got.Prefix, tc.want, tc.prefix)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Kind
	}{
		{"jane.doe@example.org", Email},
		{"10.20.1.5", IPv4},
		{"ws-er-04.stmarys.local", Hostname},
		{"https://hl7.example.org/adt", URL},
		{"(312) 555-0142", Phone},
		{"123-45-6789", SSN},
		{"1984-03-07", Date},
		{"1984-03-07 10:30:00", Date},
		{"2024-05-01T08:15:00Z", Date},
		{"03/07/1984", Date},
		{"60614", ZIP},
		{"60614-1234", ZIP},
		{"MRN0012345", MRN},
		{"100234567", MRN},
		{"C24-123456", MRN},
		{"E11.9", ""},
		{"99213", ZIP}, // five digits: only the column's name tells a CPT code from a ZIP code
		{"4W-12A", ""},
		{"Complete blood count", ""},
		{"", ""},
	} {
		if got := Classify(tc.in); got != tc.want {
			t.Errorf("Classify(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		in            string
		first, last   bool
		person, inTxt bool
	}{
		{"Maria", true, false, false, false},
		{"smith", false, true, false, false},
		{"Jennifer Johnson", false, false, true, true},
		{"Johnson, Jennifer", false, false, true, true},
		{"Dr. Robert K. Miller, MD", false, false, true, true},
		{"Jennifer Johnson, NP", false, false, true, true},
		{"Complete blood count", false, false, false, false},
		{"Unknown", false, false, false, false},
		{"Seen today by Maria Garcia for follow-up", false, false, false, true},
		{"Long term use of insulin", false, false, false, false},
	} {
		if got := IsFirstName(tc.in); got != tc.first {
			t.Errorf("IsFirstName(%q) = %v, want %v", tc.in, got, tc.first)
		}
		if got := IsSurname(tc.in); got != tc.last {
			t.Errorf("IsSurname(%q) = %v, want %v", tc.in, got, tc.last)
		}
		if got := IsPersonName(tc.in); got != tc.person {
			t.Errorf("IsPersonName(%q) = %v, want %v", tc.in, got, tc.person)
		}
		if got := ContainsPersonName(tc.in); got != tc.inTxt {
			t.Errorf("ContainsPersonName(%q) = %v, want %v", tc.in, got, tc.inTxt)
		}
	}
}

func TestFindInText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Kind
	}{
		{"Call back at (312) 555-0142.", Phone},
		{"MRN 12345678 verified at bedside", MRN},
		{"Spoke with daughter Maria Garcia", PersonName},
		{"Vitals stable. Continue current regimen.", ""},
	} {
		got, ok := FindInText(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("FindInText(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
