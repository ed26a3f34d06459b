package load_test

import (
	"context"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// BenchmarkLoadSQLite loads a synthetic warehouse of 500 patients (about 50,000 facts).
func BenchmarkLoadSQLite(b *testing.B) {
	for b.Loop() {
		db := storetest.Open(b, store.SQLite)
		_, err := load.Run(context.Background(), db, testKey, synthetic.Warehouse{Seed: 1, Patients: 500, Ontology: true}.Inputs(), load.Options{})
		must(b, err)
	}
}
