package warehouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// The individual-access report (issue 9) holds everything the warehouse has of the person:
// their identified data, patient row, visits and every observation (counted against the
// generated rows), and says so when it has nothing.
func TestPersonReportHoldsWarehouseRecords(t *testing.T) {
	o := newOracle(t, north)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, _ := world(t, db)
		gov := governance.New(db, governance.Config{})
		gov.Sources = append(gov.Sources, warehouse.Records{W: w})
		var client string
		var num int64
		must(t, db.QueryRowContext(ctx, `SELECT patient_ide, patient_num FROM patient_mapping WHERE agency = 'north' ORDER BY patient_num LIMIT 1 OFFSET 7`).Scan(&client, &num))
		facts := 0
		for _, f := range o.facts {
			if f[1].(int64) == num {
				facts++
			}
		}
		r, err := gov.PersonReport(ctx, root, governance.Person{Clients: []governance.ClientRef{{Agency: "north", Client: client}, {Agency: "north", Client: "NOT-A-CLIENT"}}})
		must(t, err)
		kinds := map[string]int{}
		for _, it := range r.Held {
			if it.Source != "research warehouse" {
				continue
			}
			kind, _, _ := strings.Cut(it.What, ":")
			kind, _, _ = strings.Cut(kind, " ")
			kinds[kind]++
			if kind == "identified" && !strings.Contains(it.What+fieldsOf(it), client) {
				t.Errorf("identified data does not carry the record number the agency knows them by")
			}
		}
		if kinds["identified"] != 1 || kinds["patient"] != 1 || kinds["visit"] == 0 || kinds["observation"] != facts || kinds["no"] != 1 {
			t.Errorf("report items %v; want 1 identified, 1 patient record, visits, %d observations, 1 'no patient record'", kinds, facts)
		}
	})
}

func fieldsOf(it governance.Item) string {
	var b strings.Builder
	for _, f := range it.Fields {
		b.WriteString(f[0] + "=" + f[1] + ";")
	}
	return b.String()
}
