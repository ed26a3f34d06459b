package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/verify"
)

// Check 6 tells the truth: with no quasi-identifiers it measured nothing, and with a group
// smaller than 5 a person must review it; neither is a pass, in any format, and the banner
// says ALL CHECKS PASSED only when every check did. Without --min-k, neither fails the run.
func TestRiskCheckTellsTheTruth(t *testing.T) {
	noQuasi := strings.Replace(deidtest.Policy, "    quasi_identifiers: [zip]\n", "", 1)
	smallGroups := strings.Replace(deidtest.Policy, "quasi_identifiers: [zip]", "quasi_identifiers: [birth_date]", 1) // shifted birth dates: nearly all unique
	cases := []struct {
		name, policy string
		minK         int
		status       verify.Status
		failed       bool
		words        map[string]string // format → what the check's row says
	}{
		{"no quasi-identifiers", noQuasi, 0, verify.StatusNotMeasured, false, map[string]string{"html": "Not measured", "md": "Not measured"}},
		{"groups smaller than 5", smallGroups, 0, verify.StatusReview, false, map[string]string{"html": "Needs review", "md": "Needs review"}},
		{"groups smaller than --min-k", smallGroups, 5, verify.StatusFailed, true, map[string]string{"html": "Failed", "md": "Failed"}},
		{"no quasi-identifiers and --min-k", noQuasi, 5, verify.StatusFailed, true, map[string]string{"html": "Failed", "md": "Failed"}},
		// Four wards over 300 encounters: groups of 75, none under 5, all under --min-k 100.
		{"groups of 75 under --min-k 100", strings.Replace(noQuasi, "      ward: keep\n", "      ward: keep\n    quasi_identifiers: [ward]\n", 1), 100, verify.StatusFailed, true, map[string]string{"html": "Failed", "md": "Failed"}},
	}
	s := deidtest.Servers[0]
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, err := policy.Parse("p.yaml", []byte(c.policy))
			if err != nil {
				t.Fatal(err)
			}
			src, dst := deidentify(t, s, pol)
			rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst, MinK: c.minK})
			if err != nil {
				t.Fatal(err)
			}
			risk := rep.Summary[len(rep.Summary)-1]
			if risk.ID != verify.Risk || risk.Status != c.status || risk.Passed {
				t.Errorf("check 6: got status %q, passed %v; want %q, not passed", risk.Status, risk.Passed, c.status)
			}
			if rep.Passed {
				t.Error("the report says every check passed")
			}
			if got := len(rep.Failed()) > 0; got != c.failed {
				t.Errorf("failed checks %v: want failed = %v", rep.Failed(), c.failed)
			}
			for _, format := range []string{"html", "md", "json"} {
				var b bytes.Buffer
				if err := verify.Render(&b, format, rep); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if strings.Contains(out, "ALL CHECKS PASSED") {
					t.Errorf("%s: the banner says ALL CHECKS PASSED", format)
				}
				if format == "json" {
					var j struct {
						Passed bool `json:"passed"`
						Checks []struct {
							ID     string `json:"id"`
							Status string `json:"status"`
							Passed bool   `json:"passed"`
						} `json:"checks"`
					}
					if err := json.Unmarshal(b.Bytes(), &j); err != nil {
						t.Fatal(err)
					}
					last := j.Checks[len(j.Checks)-1]
					if j.Passed || last.Passed || last.Status != string(c.status) {
						t.Errorf("json: passed %v, check 6 %+v; want not passed, status %q", j.Passed, last, c.status)
					}
					continue
				}
				row := riskRow(out, format)
				if !strings.Contains(row, c.words[format]) || strings.Contains(row, "Passed") {
					t.Errorf("%s: check 6's row %q: want %q and no Passed", format, row, c.words[format])
				}
			}
		})
	}
}

// riskRow is the line of the checks table that gives check 6's result.
func riskRow(out, format string) string {
	for _, line := range strings.Split(out, "\n") {
		if format == "md" && strings.HasPrefix(line, "| 6 |") || format == "html" && strings.Contains(line, "<strong>Re-identification risk</strong>") {
			return line
		}
	}
	return ""
}
