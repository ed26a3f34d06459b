package web

import (
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
)

// BenchmarkI2B2RunVersusJSON runs the same query through the CRC cell and the JSON API in one
// loop (DATA_AGG, with every breakdown) and reports the i2b2 message's cost as a ratio of the
// JSON API's: what the XML envelope, its parse and the stored result documents add.
func BenchmarkI2B2RunVersusJSON(b *testing.B) {
	f, _ := loadedFixture(b, storetest.Open(b, store.SQLite), access.DataAgg, Options{})
	bearer, session := f.signIn("ann", rootPW), f.pmSignIn("ann", rootPW)
	msg := runMessage("ann", session, "diab", diabetesXML, "PATIENT_COUNT_XML", "PATIENT_GENDER_COUNT_XML", "PATIENT_AGE_COUNT_XML",
		"PATIENT_RACE_COUNT_XML", "PATIENT_VITALSTATUS_COUNT_XML")
	var inJSON, inI2B2 time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/queries?breakdowns=all", bearer, diabetesXML, "Content-Type", "application/xml"); code != 201 {
			b.Fatalf("JSON: %d %.200s", code, body)
		}
		t1 := time.Now()
		if st, m, _ := f.i2b2Call(crcPath, msg); st != i2b2.Done {
			b.Fatalf("i2b2: %s %s", st, m)
		}
		inJSON, inI2B2 = inJSON+t1.Sub(t0), inI2B2+time.Since(t1)
	}
	b.ReportMetric(float64(inJSON.Nanoseconds())/float64(b.N), "json-ns/op")
	b.ReportMetric(float64(inI2B2.Nanoseconds())/float64(b.N), "i2b2-ns/op")
	b.ReportMetric(float64(inI2B2)/float64(inJSON), "i2b2/json")
}
