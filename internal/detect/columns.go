package detect

import (
	"slices"
	"strings"
	"unicode"
)

// Class is what a column's name says it holds.
type Class string

// The classes Column reports. The comment after each is the Hint's Why.
const (
	NoClass     Class = ""
	FirstName   Class = "first name"           // a given name
	MiddleName  Class = "middle name"          // a middle name or initial
	LastName    Class = "surname"              // a surname
	FullName    Class = "person name"          // a person's full name
	PersonRef   Class = "person"               // who did something: attending, requested_by, provider
	Username    Class = "user name"            // a login name
	SubjectID   Class = "patient or member id" // patient_id, person_id, member_id: a surrogate key or a record number, by type
	RecordNo    Class = "record number"        // MRN, account, claim, accession, member, policy, licence numbers
	SSNClass    Class = "SSN"                  // a social security number
	PhoneClass  Class = "phone number"         // a phone, mobile, fax or pager number
	EmailClass  Class = "e-mail address"       // an e-mail address
	IPClass     Class = "IP address"           // a network address
	HostClass   Class = "host name"            // a server, workstation or device host name
	URLClass    Class = "URL"                  // a URL
	Endpoint    Class = "endpoint"             // an integration endpoint: a URL, host or address
	DeviceID    Class = "device id"            // serial numbers, MAC addresses, asset tags
	Address     Class = "street address"       // a street address
	City        Class = "city"                 // a city or town
	County      Class = "county"               // a county
	ZIPClass    Class = "ZIP code"             // a ZIP or postal code
	BirthDate   Class = "birth date"           // a date of birth
	BirthYear   Class = "birth year"           // a year of birth
	Age         Class = "age"                  // an age in years
	Sex         Class = "sex or gender"        // sex or gender
	Race        Class = "race or ethnicity"    // race or ethnicity
	Admission   Class = "admission date"       // admission or discharge date
	EventDate   Class = "date"                 // some other date or time
	Notes       Class = "free text"            // notes, comments, remarks
	Description Class = "description"          // descriptive text that may or may not name anyone
	Org         Class = "organisation"         // enterprise, campus, facility, hospital, clinic, practice, employer
	Site        Class = "site"                 // a site or location: an organisation, or a place in a building or body
	Name        Class = "name"                 // a bare "name": decided by the table and the values
	Key         Class = "surrogate key"        // id, key, seq
	Neutral     Class = "code or measure"      // status, type, count, flag, code…
)

// Hint is what a column's name suggests.
type Hint struct {
	Class  Class
	Prefix string // Org: a pseudonym prefix such as "Campus"
}

// Tokens splits a column or table name into lower-case words: snake_case, kebab-case,
// camelCase, PascalCase, digits apart ("ptFName2" → pt, f, name, 2; "HTTPServer" → http,
// server).
func Tokens(name string) []string {
	var out []string
	rs := []rune(name)
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			out = append(out, strings.ToLower(string(rs[start:end])))
		}
		start = -1
	}
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush(i)
			continue
		case start < 0:
			start = i
			continue
		}
		p := rs[i-1]
		switch {
		case unicode.IsDigit(r) != unicode.IsDigit(p):
			flush(i)
		case unicode.IsUpper(r) && unicode.IsLower(p):
			flush(i)
		case unicode.IsUpper(r) && unicode.IsUpper(p) && i+1 < len(rs) && unicode.IsLower(rs[i+1]):
			flush(i)
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(rs))
	return out
}

// aliases maps abbreviations to the words the rules below test; some expand to two words.
var aliases = map[string][]string{
	"fname": {"first", "name"}, "fnm": {"first", "name"}, "firstname": {"first", "name"}, "given": {"first"}, "forename": {"first"},
	"lname": {"last", "name"}, "lnm": {"last", "name"}, "lastname": {"last", "name"}, "surname": {"last", "name"}, "family": {"last"}, "maiden": {"last"},
	"mname": {"middle", "name"}, "mi": {"middle"}, "middlename": {"middle", "name"},
	"fullname": {"full", "name"}, "displayname": {"full", "name"},
	"pt": {"patient"}, "pat": {"patient"}, "ptnt": {"patient"}, "pers": {"person"}, "mbr": {"member"},
	"dob": {"birth", "date"}, "birthdate": {"birth", "date"}, "bdate": {"birth", "date"}, "bdt": {"birth", "date"}, "yob": {"birth", "year"}, "birthday": {"birth", "date"},
	"dod": {"death", "date"}, "deceased": {"death"},
	"mrn": {"mrn"}, "mrno": {"mrn"}, "chart": {"mrn"},
	"ssn": {"ssn"}, "socsec": {"ssn"}, "sin": {"ssn"}, "ssnum": {"ssn"},
	"acct": {"account"}, "acc": {"account"}, "accnt": {"account"},
	"no": {"number"}, "num": {"number"}, "nbr": {"number"}, "nr": {"number"}, "nmbr": {"number"},
	"addr": {"address"}, "street": {"address"}, "addr1": {"address"}, "addr2": {"address"}, "line1": {"address"}, "line2": {"address"},
	"ws": {"workstation"}, "wks": {"workstation"}, "wkstn": {"workstation"}, "pc": {"workstation"}, "computer": {"workstation"}, "machine": {"workstation"},
	"ipaddr": {"ip"}, "ipv4": {"ip"}, "ipv6": {"ip"}, "ipaddress": {"ip"},
	"tel": {"phone"}, "telephone": {"phone"}, "ph": {"phone"}, "phn": {"phone"}, "mobile": {"phone"}, "cell": {"phone"}, "fax": {"phone"}, "pager": {"phone"}, "phonenumber": {"phone"},
	"email": {"email"}, "mail": {"email"}, "emailaddress": {"email"},
	"zip": {"zip"}, "zipcode": {"zip"}, "postal": {"zip"}, "postcode": {"zip"}, "zip5": {"zip"},
	"dt": {"date"}, "datetime": {"date"}, "ts": {"date"}, "timestamp": {"date"}, "dttm": {"date"}, "time": {"date"}, "tm": {"date"},
	"adm": {"admit"}, "admsn": {"admit"}, "add": {"address"}, "admission": {"admit"}, "admitted": {"admit"}, "dsch": {"discharge"}, "disch": {"discharge"}, "dc": {"discharge"}, "discharged": {"discharge"},
	"cmt": {"note"}, "comment": {"note"}, "comments": {"note"}, "notes": {"note"}, "remark": {"note"}, "remarks": {"note"},
	"narrative": {"note"}, "memo": {"note"}, "freetext": {"note"}, "message": {"note"}, "msg": {"note"}, "body": {"note"},
	"desc": {"description"}, "descr": {"description"}, "complaint": {"description"}, "reason": {"description"}, "text": {"description"}, "summary": {"description"},
	"usr": {"user"}, "username": {"user", "name"}, "login": {"user"}, "logon": {"user"}, "userid": {"user", "id"}, "samaccountname": {"user", "name"},
	"hostname": {"host", "name"}, "fqdn": {"host"}, "dns": {"host"}, "netbios": {"host"}, "srv": {"server"}, "svr": {"server"},
	"uri": {"url"}, "link": {"url"}, "href": {"url"}, "website": {"url"}, "wsdl": {"url"}, "baseurl": {"url"},
	"mac": {"mac"}, "serial": {"serial"}, "sn": {"serial"}, "imei": {"serial"}, "asset": {"asset"},
	"gender": {"sex"}, "ethnicity": {"race"}, "ethnic": {"race"},
	"town": {"city"}, "municipality": {"city"},
	"ent": {"enterprise"}, "fac": {"facility"}, "hosp": {"hospital"}, "org": {"organization"}, "organisation": {"organization"},
	"loc": {"location"},
	"dr":  {"provider"}, "doc": {"provider"}, "physician": {"provider"}, "prov": {"provider"}, "md": {"provider"}, "attending": {"provider"},
	"attnd": {"provider"}, "clinician": {"provider"}, "nurse": {"provider"}, "rn": {"provider"}, "surgeon": {"provider"}, "pcp": {"provider"},
	"technician": {"provider"}, "tech": {"provider"}, "staff": {"provider"}, "employee": {"provider"}, "emp": {"provider"}, "author": {"provider"},
	"signer": {"provider"}, "requester": {"provider"}, "referrer": {"provider"}, "referring": {"provider"}, "guarantor": {"provider"},
	"contact": {"provider"}, "kin": {"provider"}, "nok": {"provider"}, "spouse": {"provider"}, "mother": {"provider"}, "father": {"provider"},
	"caller": {"provider"}, "resident": {"provider"}, "pharmacist": {"provider"},
	"npi": {"licence"}, "dea": {"licence"}, "license": {"licence"}, "lic": {"licence"},
	"fin": {"encounter", "number"}, "csn": {"encounter", "number"}, "har": {"account"},
}

// neutral words at the end of a name make it a code or measure of the thing, not the thing
// itself: account_type, email_verified_flag, birth_date_source.
var neutral = setOf("type", "status", "class", "category", "kind", "flag", "count", "cnt", "qty", "level",
	"indicator", "ind", "yn", "method", "source", "result", "version", "length", "len", "format", "verified",
	"confirmed", "valid", "priority", "role", "unit", "units", "band", "range", "seq", "order", "rank", "pref", "preference", "state", "country", "title", "ext", "extension")

// Column says what a column's name suggests it holds. table is the table's name, which
// decides some names ("name" in a campus table is an organisation's name).
func Column(table, column string) Hint {
	t := expand(Tokens(column))
	if len(t) == 0 {
		return Hint{}
	}
	has := func(w ...string) bool {
		for _, x := range w {
			if slices.Contains(t, x) {
				return true
			}
		}
		return false
	}
	last := t[len(t)-1]
	if neutral[last] || last == "code" && !has("zip", "site", "facility", "campus", "enterprise", "hospital") {
		if has("sex", "race") {
			return Hint{Class: classOf(t)}
		}
		return Hint{Class: Neutral}
	}
	return Hint{Class: classOf(t), Prefix: orgPrefix(t, Tokens(table))}
}

func expand(ts []string) []string {
	out := make([]string, 0, len(ts)+2)
	for i, w := range ts {
		if i+1 < len(ts) && ts[i+1] == "name" && (w == "f" || w == "l" || w == "m") { // PtFName
			w += "name"
			ts[i+1] = ""
		}
		if w == "" {
			continue
		}
		if a, ok := aliases[w]; ok {
			out = append(out, a...)
		} else {
			out = append(out, w)
		}
	}
	return out
}

var orgWords = []string{"enterprise", "campus", "facility", "hospital", "organization", "clinic", "practice", "employer", "system"}

func orgPrefix(col, table []string) string {
	for _, ts := range [][]string{col, table} {
		for _, w := range ts {
			for _, o := range orgWords {
				if w == o {
					if o == "system" {
						return "Health System"
					}
					return strings.ToUpper(o[:1]) + o[1:]
				}
			}
		}
	}
	for _, ts := range [][]string{col, table} {
		if slices.Contains(ts, "site") || slices.Contains(ts, "location") {
			return "Site"
		}
	}
	return "Organization"
}

func classOf(t []string) Class {
	has := func(w ...string) bool {
		for _, x := range w {
			if slices.Contains(t, x) {
				return true
			}
		}
		return false
	}
	id := has("id", "key", "pk", "fk", "sk", "guid", "uuid")
	number := has("number", "nbr", "identifier")
	switch {
	case has("ssn"):
		return SSNClass
	case has("email"):
		return EmailClass
	case has("ip"):
		return IPClass
	case has("mac", "serial") || has("asset") && (has("tag") || number):
		return DeviceID
	case has("url"):
		return URLClass
	case has("endpoint") && !id:
		return Endpoint
	case has("phone"):
		return PhoneClass
	case has("mrn") || has("medical") && has("record") || !has("name") && has("account", "claim", "accession", "policy", "subscriber", "beneficiary",
		"medicare", "medicaid", "passport", "licence", "certificate", "barcode") && !(id && !number) ||
		has("encounter", "visit", "member", "insurance", "specimen", "order", "invoice", "bill") && number:
		return RecordNo
	case has("birth") && has("year"):
		return BirthYear
	case has("birth"):
		return BirthDate
	case has("age"):
		return Age
	case has("sex"):
		return Sex
	case has("race"):
		return Race
	case has("zip"):
		return ZIPClass
	case has("city"):
		return City
	case has("county"):
		return County
	case has("address"):
		return Address
	case has("first") && !has("date", "at", "seen"):
		return FirstName
	case has("middle"), has("initial", "initials"):
		return MiddleName
	case has("last") && !has("date", "updated", "modified", "login", "seen", "visit"):
		return LastName
	case has("user"):
		return Username
	case has("host", "workstation") && !id, has("server", "device", "node") && has("name"):
		return HostClass
	case has("patient", "person", "member", "subscriber", "individual", "client") && id:
		return SubjectID
	case id, len(t) == 1 && has("number", "seq", "sequence"):
		return Key
	case has("full") && has("name"), has("patient", "person", "provider", "member", "subscriber") && has("name"):
		return FullName
	case has("provider") || last(t) == "by":
		return PersonRef
	case has("admit", "discharge") && (len(t) == 1 || has("date", "at", "on", "dts")):
		return Admission
	case has("death"), has("date", "at", "on", "when", "dts", "updated", "modified", "created"):
		return EventDate
	case has("note"):
		return Notes
	case has("enterprise", "campus", "facility", "hospital", "organization", "clinic", "practice", "employer"):
		return Org
	case has("site", "location"):
		return Site
	case has("description"):
		return Description
	case has("name"):
		return Name
	case has("server", "workstation"):
		return HostClass
	}
	return NoClass
}

func last(t []string) string { return t[len(t)-1] }
