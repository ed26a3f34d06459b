package disclosure

import (
	"strings"
	"testing"
)

// Attack: 31 persons of one project relabelled as four contributors (8, 8, 8, 7) passed the
// contributor rule as if it were shown. The checks cannot tell a relabelled file from an
// honest one, so for a file's declared contributors they never report the rule as met: the
// result says the contributors are declared, not verified.
func TestAttackRelabelledContributorsAreNotVerified(t *testing.T) {
	m := Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"age_band"}, Magnitudes: []string{"cost"}, Population: "dwh:test"}
	csv := "age_band,project,patients,cost\n"
	for _, band := range []string{"18-64", "65+"} {
		for i, n := range []string{"8", "8", "8", "7"} {
			csv += band + ",P" + string(rune('1'+i)) + "," + n + ",1000\n"
		}
	}
	tab, head, err := ReadCSV("t.csv", strings.NewReader(csv), m)
	if err != nil {
		t.Fatal(err)
	}
	res := Check(tab, head, Rules{}, nil)
	got := map[Rule]string{}
	for _, f := range res.Unverified {
		got[f.Rule] = f.Reason
	}
	for _, rule := range []Rule{RuleProjects, RuleDominance, RuleP} {
		if !strings.Contains(got[rule], "contributors declared, not verified") {
			t.Errorf("rule %s: got %q, want it reported as declared, not verified", rule, got[rule])
		}
	}
	res.Verified()
	if len(res.Unverified) != 0 {
		t.Errorf("a table whose contributors Steward computed still reports %d unverified rules", len(res.Unverified))
	}
}
