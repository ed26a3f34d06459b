package verify_test

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/verify"
)

// The report draws each table's risk as a chart beside its numbers: the shares of records in
// groups smaller than 5 and of unique records, before and after, on one scale to 100 %.
func TestReportRiskChart(t *testing.T) {
	rep := &verify.Report{Verdict: "ALL CHECKS PASSED", Tables: []*verify.Table{{Name: "patient", Risk: &verify.RiskResult{
		QuasiIdentifiers: []string{"birth_year", "zip3"},
		Original:         verify.KStats{Records: 200, Groups: 150, K: 1, Below5: 160, Unique: 120},
		Deidentified:     verify.KStats{Records: 200, Groups: 20, K: 5, Below5: 0, Unique: 0},
	}}}}
	var b bytes.Buffer
	if err := verify.Render(&b, "html", rep); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	fig := regexp.MustCompile(`(?s)<figure class="risk" id="risk-patient">.*?</figure>`).FindString(page)
	if fig == "" || !strings.Contains(fig, "<svg") {
		t.Fatalf("no risk chart for table patient in the report")
	}
	var widths []float64
	for _, m := range regexp.MustCompile(`class="bar" x="[^"]*" y="[^"]*" width="([^"]*)"`).FindAllStringSubmatch(fig, -1) {
		w, _ := strconv.ParseFloat(m[1], 64)
		widths = append(widths, w)
	}
	// 80 % in small groups and 60 % unique originally, none after.
	if len(widths) != 4 || widths[1] != 0 || widths[3] != 0 || widths[0] == 0 || math.Abs(widths[2]/widths[0]-60.0/80) > 0.001 {
		t.Errorf("risk bars %v: want 80 %% and 60 %% of one scale, then 0 and 0", widths)
	}
	for _, want := range []string{"80.0 %", "60.0 %", "In groups &lt; 5, de-identified", `<caption>`, `<th scope="col">Records in groups &lt; 5</th>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
