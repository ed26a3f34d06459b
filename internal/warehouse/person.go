package warehouse

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
)

// Records is the warehouse as a source of issue 9's individual-access report (Part A, 9):
// for each agency client identifier of the person, the patients the agency's mapping names,
// with everything the warehouse holds of them — the patient row, identified data, visits and
// observations, blobs opened. Add it to governance.Service.Sources.
type Records struct{ W *Warehouse }

// Name names the source in the report.
func (Records) Name() string { return "research warehouse" }

// About lists what the warehouse holds of the person.
func (r Records) About(ctx context.Context, _ *store.DB, who governance.Person) ([]governance.Item, error) {
	var out []governance.Item
	for _, c := range who.Clients {
		nums, err := cohort.Collect(ctx, r.W.DB, `SELECT DISTINCT patient_num FROM patient_mapping WHERE agency = $1 AND patient_ide = $2`, c.Agency, c.Client)
		if err != nil {
			return nil, fmt.Errorf("patient_mapping: %w", err)
		}
		if nums.IsEmpty() { // say so, so the report shows the warehouse was searched
			out = append(out, governance.Item{Source: r.Name(), Agency: c.Agency, What: "no patient record under this client identifier"})
			continue
		}
		var pdo PDO
		if err := r.W.read(ctx, &pdo, c.Agency, nums.ToArray(), PDOOptions{Blobs: true, Identified: true}); err != nil {
			return nil, err
		}
		names := map[string]string{}
		for _, k := range pdo.Concepts {
			names[fmt.Sprint(k["concept_cd"])] = fmt.Sprint(k["name_char"])
		}
		item := func(what string, row map[string]any) governance.Item {
			it := governance.Item{Source: r.Name(), Agency: c.Agency, What: what}
			for _, k := range slices.Sorted(maps.Keys(row)) {
				if v := row[k]; k != "agency" && v != nil && fmt.Sprint(v) != "" {
					it.Fields = append(it.Fields, [2]string{k, fmt.Sprint(v)})
				}
			}
			return it
		}
		for _, x := range pdo.Identities {
			out = append(out, item("identified data", x))
		}
		for _, x := range pdo.Patients {
			out = append(out, item("patient record", x))
		}
		for _, x := range pdo.Visits {
			out = append(out, item(fmt.Sprintf("visit %v", x["encounter_num"]), x))
		}
		for _, x := range pdo.Observations {
			what := fmt.Sprint(x["concept_cd"])
			if n := names[what]; n != "" {
				what = n + " (" + what + ")"
			}
			out = append(out, item(fmt.Sprintf("observation: %s on %v", what, x["start_date"]), x))
		}
	}
	return out, nil
}
