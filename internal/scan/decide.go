package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/policy"
)

func rule(k policy.Kind, text string) policy.Rule { return policy.Rule{Kind: k, Text: text} }

var (
	keepRule   = rule(policy.Keep, "")
	hashRule   = rule(policy.Hash, "")
	nullRule   = rule(policy.Null, "")
	scrubRule  = rule(policy.Scrub, "")
	digitsRule = policy.Rule{Kind: policy.Hash, Alphabet: policy.Digits}
)

func place(kind string) policy.Rule    { return rule(policy.Placeholder, kind) }
func pseudo(prefix string) policy.Rule { return rule(policy.Pseudonym, prefix) }
func general(level string) policy.Rule { return rule(policy.Generalize, level) }
func shift(by string) policy.Rule {
	return policy.Rule{Kind: policy.ShiftDate, By: by, Days: ShiftDays}
}

func mk(r policy.Rule, format string, args ...any) *Decision {
	return &Decision{Rule: r, Reason: fmt.Sprintf(format, args...)}
}

func quasi(d *Decision) *Decision  { d.Quasi = true; return d }
func review(d *Decision) *Decision { d.Review = true; return d }

// suggests is the start of a reason taken from the column's name.
func suggests(c detect.Class) string {
	if c == detect.NoClass {
		return "column name says nothing certain"
	}
	switch c {
	case detect.Notes, detect.Sex, detect.Race:
		return "column name suggests " + string(c)
	case detect.SSNClass:
		return "column name suggests a social security number"
	}
	return "column name suggests " + article(string(c))
}

// article puts "a" or "an" before a noun.
func article(s string) string {
	if s != "" && (strings.ContainsRune("aeiouAEIO", rune(s[0])) || strings.HasPrefix(s, "e-") || strings.HasPrefix(s, "IP")) && !strings.HasPrefix(s, "user") && !strings.HasPrefix(s, "URL") {
		return "an " + s
	}
	return "a " + s
}

// of says what share of the sampled values something is: "97 % of 1,000 sampled values are known surnames".
func (s *stats) of(part int, what string) string {
	if s.n == 0 {
		return "no values sampled"
	}
	return fmt.Sprintf("%d %% of %s sampled values %s", s.share(part), thousands(s.n), what)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// decide gives one column its rule.
func decide(tc *tableContext, c *database.Column, st *stats, rows int) *Decision {
	h := detect.Column(tc.t.Name, c.Name)
	switch c.Type {
	case database.Bool:
		return mk(keepRule, "a true/false flag")
	case database.Bytes:
		return review(mk(nullRule, "binary data is not inspected; emptied to err on the side of protection"))
	case database.Inet:
		return mk(place(policy.PlaceIP), "a network address type: addresses map the network")
	case database.Other:
		if identifyingClass(h.Class) || st.textHits() > 0 {
			if c.NotNull {
				return review(mk(keepRule, "%s or holds identifiers, but no rule can transform a %s column", suggests(h.Class), c.Native))
			}
			return review(mk(nullRule, "%s, and no rule but null transforms a %s column", suggests(h.Class), c.Native))
		}
		return mk(keepRule, "no identifier found (%s)", st.of(0, "hold one"))
	case database.Integer, database.Float, database.Decimal:
		return decideNumber(tc, c, h, st)
	case database.Date, database.Timestamp:
		return decideDate(tc, h, st)
	}
	return decideText(tc, c, h, st, rows)
}

// identifyingClass is a name class that, with no value to contradict it, means identifying.
func identifyingClass(c detect.Class) bool {
	switch c {
	case detect.NoClass, detect.Neutral, detect.Key, detect.Name, detect.Description, detect.Site, detect.Endpoint,
		detect.Sex, detect.Race, detect.BirthYear, detect.EventDate:
		return false
	}
	return true
}

func decideNumber(tc *tableContext, c *database.Column, h detect.Hint, st *stats) *Decision {
	key := slices.Contains(tc.t.PrimaryKey, c.Name) || isForeignKey(tc.t, c.Name)
	strong := hasAny(detect.Tokens(c.Name), []string{"mrn", "chart", "ssn", "account", "acct", "member", "medicare", "medicaid"})
	switch h.Class {
	case detect.RecordNo, detect.SSNClass, detect.PhoneClass, detect.DeviceID:
		if key && !strong {
			return mk(keepRule, "a surrogate integer key: an identifier only inside this database")
		}
		if c.Type == database.Integer {
			return mk(hashRule, "%s, stored as a number: hashed to a keyed permutation of its range", suggests(h.Class))
		}
		return review(mk(nullRule, "%s, stored as a %s that no hash fits", suggests(h.Class), c.Native))
	case detect.ZIPClass:
		return review(mk(hashRule, "%s, stored as a number: {generalize: zip3} needs text, so hashed", suggests(h.Class)))
	case detect.Age:
		return quasi(mk(general(policy.AgeBand), "%s; ten-year bands, 90+ above 89", suggests(h.Class)))
	case detect.BirthYear, detect.Sex, detect.Race:
		return quasi(mk(keepRule, "%s; kept, but it narrows down who a record is about", suggests(h.Class)))
	}
	if key {
		return mk(keepRule, "a surrogate integer key: an identifier only inside this database")
	}
	if h.Class == detect.SubjectID || h.Class == detect.Key {
		return mk(keepRule, "%s: an integer identifier only inside this database", suggests(detect.Key))
	}
	return mk(keepRule, "a number: a measure, count or code")
}

func isForeignKey(t *database.Table, col string) bool {
	for _, fk := range t.ForeignKeys {
		if slices.Contains(fk.Columns, col) {
			return true
		}
	}
	return false
}

func decideDate(tc *tableContext, h detect.Hint, st *stats) *Decision {
	switch {
	case h.Class == detect.BirthDate:
		return quasi(mk(general(policy.Year), "%s; the year is kept", suggests(h.Class)))
	case !tc.linked:
		return mk(keepRule, "a date of a record that is not about a patient")
	case tc.by == "":
		return review(mk(general(policy.Month), "a date of a patient's record, but the table has no key to shift it by; generalised to the month"))
	case h.Class == detect.NoClass && st.n > 0 && st.maxYear-st.minYear >= 40:
		return review(quasi(mk(general(policy.Year), "sampled dates span %d years, like dates of birth; the year is kept", st.maxYear-st.minYear)))
	case h.Class == detect.Admission:
		return quasi(mk(shift(tc.by), "%s; shifted by %s, one offset per entity, so intervals survive", suggests(h.Class), tc.by))
	}
	return mk(shift(tc.by), "a date of a patient's record; shifted by %s, one offset per entity, so intervals survive", tc.by)
}

func decideText(tc *tableContext, c *database.Column, h detect.Hint, st *stats, rows int) *Decision {
	if d := orgCode(tc, c, h); d != nil {
		return d
	}
	says := suggests(h.Class)
	mrn := st.kinds[detect.MRN]
	dates := st.kinds[detect.Date]
	switch h.Class {
	case detect.FirstName:
		return mk(hashRule, "%s; %s", says, st.of(st.first, "are known given names"))
	case detect.LastName:
		return mk(hashRule, "%s; %s", says, st.of(st.surname, "are known surnames"))
	case detect.MiddleName:
		return mk(hashRule, "%s; %s", says, st.of(st.first+st.surname, "are known names"))
	case detect.FullName:
		return mk(hashRule, "%s; %s", says, st.of(st.person, "are a known given name and surname"))
	case detect.PersonRef:
		return mk(hashRule, "%s; %s", says, st.of(st.person+st.user+st.surname, "are known names or logins made from one"))
	case detect.Username:
		return mk(hashRule, "%s; %s", says, st.of(st.user, "look like logins made from a name"))
	case detect.SubjectID, detect.RecordNo, detect.DeviceID:
		return mk(hashRule, "%s; %s", says, st.of(mrn, "look like record numbers"))
	case detect.SSNClass:
		return mk(digitsRule, "%s; %s", says, st.of(st.kinds[detect.SSN], "are SSNs"))
	case detect.PhoneClass:
		return mk(digitsRule, "%s; %s", says, st.of(st.kinds[detect.Phone], "are phone numbers"))
	case detect.EmailClass:
		return mk(place(policy.PlaceEmail), "%s; %s", says, st.of(st.kinds[detect.Email], "are e-mail addresses"))
	case detect.IPClass:
		return mk(place(policy.PlaceIP), "%s; %s", says, st.of(st.kinds[detect.IPv4]+st.kinds[detect.IPv6], "are IP addresses"))
	case detect.HostClass:
		return mk(place(policy.PlaceHostname), "%s; host names reveal the organisation and its network", says)
	case detect.URLClass:
		return mk(place(policy.PlaceURL), "%s; %s", says, st.of(st.kinds[detect.URL], "are URLs"))
	case detect.Endpoint:
		if d := networkValues(st, 1); d != nil {
			return d
		}
		return mk(keepRule, "%s, but %s: the interface's label", says, st.of(0, "are URLs, host names or addresses"))
	case detect.Address:
		return mk(hashRule, "%s; a street address locates a person or a site exactly", says)
	case detect.City, detect.County:
		return mk(pseudo(strings.ToUpper(string(h.Class[:1]))+string(h.Class[1:])), "%s; it narrows down where a person lives or the data came from", says)
	case detect.ZIPClass:
		return quasi(mk(general(policy.Zip3), "%s; %s", says, st.of(st.kinds[detect.ZIP], "are ZIP codes")))
	case detect.BirthDate:
		if st.n == 0 || dates*2 >= st.n {
			return quasi(mk(general(policy.Year), "%s; %s; the year is kept", says, st.of(dates, "are dates")))
		}
		return review(mk(hashRule, "%s, but %s", says, st.of(dates, "are dates")))
	case detect.BirthYear, detect.Sex, detect.Race:
		return quasi(mk(keepRule, "%s; kept, but it narrows down who a record is about", says))
	case detect.Age:
		return quasi(mk(general(policy.AgeBand), "%s; ten-year bands, 90+ above 89", says))
	case detect.Admission, detect.EventDate:
		if st.n > 0 && dates*2 >= st.n {
			d := decideDate(tc, h, st)
			d.Reason += "; " + st.of(dates, "are dates")
			return d
		}
	case detect.Notes:
		return mk(scrubRule, "%s; %s", says, st.of(st.textHits(), "hold an identifier"))
	case detect.Org:
		return mk(pseudo(h.Prefix), "%s; organisation names tell where the data came from", says)
	case detect.Site:
		if st.org*2 >= st.n && st.n > 0 || hasAny(tc.words, orgTables) {
			return mk(pseudo("Site"), "%s; %s", says, st.of(st.org, "name an organisation (hospital, clinic, campus…)"))
		}
		return mk(keepRule, "%s, but %s: a place, not an organisation", says, st.of(st.org, "name an organisation (hospital, clinic, campus…)"))
	case detect.Name:
		switch {
		case hasAny(tc.words, hostTables):
			return mk(place(policy.PlaceHostname), "the name of %s: host names reveal the organisation and its network", article(tc.t.Name))
		case hasAny(tc.words, orgTables):
			return mk(pseudo(h.Prefix), "the name of %s: organisation names tell where the data came from", article(tc.t.Name))
		case hasAny(tc.words, personTables):
			return mk(hashRule, "the name of %s; %s", article(tc.t.Name), st.of(st.person, "are a known given name and surname"))
		}
	case detect.Neutral:
		if d := strongValues(st, false); d != nil {
			return d
		}
		return mk(keepRule, "%s", says)
	case detect.Key:
		if st.n > 0 && mrn*2 >= st.n && st.unique()*2 >= st.n {
			return review(mk(hashRule, "%s, but %s", says, st.of(mrn, "look like record numbers")))
		}
		return mk(keepRule, "%s; %s", says, st.of(mrn, "look like record numbers"))
	}
	return byValues(tc, h, st, rows)
}

var (
	// codeWords name a short form of what a row names: ARHS for Allegheny Riverside Health System.
	codeWords = []string{"code", "cd", "abbr", "abbrev", "abbreviation", "acronym", "initials", "mnemonic", "short", "shortname", "alias", "nickname"}
	// kindWords make a code the code of a kind, not of the row: type_code, status_cd.
	kindWords = []string{"type", "status", "kind", "class", "category", "level", "state", "flag", "priority", "color", "colour"}
)

// orgCode hashes the short code (initials, abbreviation, mnemonic) an organisation's table
// keeps next to its name: it names the organisation as surely as the name does, and no
// pattern recognises it.
func orgCode(tc *tableContext, c *database.Column, h detect.Hint) *Decision {
	switch h.Class {
	case detect.NoClass, detect.Neutral, detect.Name, detect.Description, detect.Key:
	default:
		return nil
	}
	words := detect.Tokens(c.Name)
	if !hasAny(tc.words, orgTables) || !hasAny(words, codeWords) || hasAny(words, kindWords) {
		return nil
	}
	named := ""
	for _, o := range tc.t.Columns {
		if o != c && o.Type == database.Text && hasAny(detect.Tokens(o.Name), []string{"name", "title", "description"}) {
			named = o.Name
			break
		}
	}
	if named == "" {
		return nil
	}
	return mk(hashRule, "the short code (initials or abbreviation) of %s beside its %s: it names the organisation as surely as the name does", article(tc.t.Name), named)
}

// networkValues proposes a placeholder when at least min in 2 sampled values are URLs, IP
// addresses or host names (min 1: any share; 2: half).
func networkValues(st *stats, min int) *Decision {
	urls, ips, hosts := st.kinds[detect.URL], st.kinds[detect.IPv4]+st.kinds[detect.IPv6], st.kinds[detect.Hostname]
	best := max(urls, ips, hosts)
	if best == 0 || min == 2 && best*2 < st.n {
		return nil
	}
	switch best {
	case urls:
		return mk(place(policy.PlaceURL), "%s", st.of(urls, "are URLs"))
	case ips:
		return mk(place(policy.PlaceIP), "%s", st.of(ips, "are IP addresses"))
	}
	return mk(place(policy.PlaceHostname), "%s", st.of(hosts, "are host names"))
}

// strongValues decides by the values alone when half or more are one kind of identifier.
// Record numbers count only when records is true (a code column's values may look alike).
func strongValues(st *stats, records bool) *Decision {
	if st.n == 0 {
		return nil
	}
	if d := networkValues(st, 2); d != nil {
		return d
	}
	k, n := st.top()
	if n*2 < st.n {
		return nil
	}
	switch k {
	case detect.Email:
		return mk(place(policy.PlaceEmail), "%s", st.of(n, "are e-mail addresses"))
	case detect.Phone:
		return mk(digitsRule, "%s", st.of(n, "are phone numbers"))
	case detect.SSN:
		return mk(digitsRule, "%s", st.of(n, "are SSNs"))
	case detect.MRN:
		if records && st.unique()*2 >= st.n {
			return review(mk(hashRule, "%s, mostly distinct", st.of(n, "look like record or account numbers")))
		}
	}
	return nil
}

// byValues decides a text column its name says little about.
func byValues(tc *tableContext, h detect.Hint, st *stats, rows int) *Decision {
	if st.n == 0 {
		if rows == 0 {
			return review(mk(hashRule, "no rows to sample and the name says nothing certain"))
		}
		return mk(keepRule, "no values in %s sampled rows", thousands(rows))
	}
	if d := strongValues(st, true); d != nil {
		return d
	}
	if st.person*10 >= st.n*3 {
		return mk(hashRule, "%s", st.of(st.person, "are a known given name and surname"))
	}
	if hits := st.textHits(); hits > 0 && (st.textN*10 >= st.n*3 || hits*10 >= st.n*3) {
		return mk(scrubRule, "free text; %s", st.of(hits, "hold an identifier"))
	}
	if (st.first+st.surname)*2 >= st.n {
		return review(mk(hashRule, "%s", st.of(st.first+st.surname, "are known given names or surnames")))
	}
	if dates := st.kinds[detect.Date]; dates*2 >= st.n && tc.linked {
		d := decideDate(tc, h, st)
		d.Reason += "; " + st.of(dates, "are dates")
		return d
	}
	what := "no identifier found"
	if h.Class == detect.Name || h.Class == detect.Description {
		what = suggests(h.Class) + ", but no identifier found"
	}
	return mk(keepRule, "%s: %s", what, st.of(st.person+st.textHits()+st.kinds[detect.MRN], "hold a name, record number or other identifier"))
}

// fit changes a rule that cannot apply to the column's declared size into one that can.
func fit(t *database.Table, c *database.Column, d *Decision) policy.Rule {
	r := d.Rule
	short := func(n int) bool { return c.Type == database.Text && c.Length > 0 && c.Length < n }
	switch {
	case r.Kind == policy.Pseudonym && short(5), r.Kind == policy.Generalize && short(3):
		r = hashRule
	}
	if r.Kind == policy.Hash && short(6) {
		d.Reason += fmt.Sprintf("; %d characters are too few for a hash, so emptied", c.Length)
		return nullRule
	}
	if r.Kind == policy.Hash && c.Type == database.Text && c.Length > 0 && c.Length < 16 && t.Unique(c.Name) && r.Alphabet == "" {
		d.Reason += "; base32 keeps the cut hashes of a unique column apart"
		r.Alphabet = policy.Base32
	}
	return r
}

// joinForeignKeys gives both ends of every foreign key the same rule, the referenced
// column's when it transforms, so that joins survive.
func joinForeignKeys(s *database.Schema, res *Result) {
	for changed, rounds := true, 0; changed && rounds < 10; rounds++ {
		changed = false
		for _, t := range s.Tables {
			for _, fk := range t.ForeignKeys {
				for i, col := range fk.Columns {
					if i >= len(fk.RefColumns) {
						break
					}
					a, b := res.Decision(t.Name, col), res.Decision(fk.RefTable, fk.RefColumns[i])
					if a == nil || b == nil || a.Rule.Same(b.Rule) {
						continue
					}
					from, to := b, a
					if !b.Rule.Transforms() {
						from, to = a, b
					}
					r := from.Rule
					if !portable(r, s.Table(t.Name).Column(col), s.Table(fk.RefTable).Column(fk.RefColumns[i])) {
						r = hashRule
						from.Rule, from.Reason = r, from.Reason+"; hashed so that the foreign key to "+to.Table+"."+to.Column+" can take the same rule"
					}
					to.Rule, to.Review, to.Quasi = r, from.Review, false
					to.Reason = fmt.Sprintf("a foreign key with %s.%s: the same rule, so joins survive", from.Table, from.Column)
					changed = true
				}
			}
		}
	}
}

// portable reports whether both ends of a key can take rule r.
func portable(r policy.Rule, a, b *database.Column) bool {
	return r.Kind == policy.Hash || a != nil && b != nil && a.Type == b.Type
}
