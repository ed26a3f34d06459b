package web

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Retroactive checks through the API: the officer sets 50 % a month (the analyst may not),
// a run samples round(0.5 × 7) = 4 of last month's 7 automatic exports, the samples are
// listed for the officer only (another agency's user gets 404), and a recalled outcome
// recalls the export.
func TestRetroactiveChecksAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		ctx := context.Background()
		now := time.Now().UTC()
		last := time.Date(now.Year(), now.Month(), 1, 9, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		for i := range 7 {
			if _, err := db.ExecContext(ctx, `INSERT INTO export_requests (id, project, author, mode, purpose, status, created_at, declared)
				VALUES ($1, 'diab', 'vera', 'automatic', 'outcomes', 'released', $2, FALSE)`,
				fmt.Sprintf("exp-%016d", i), store.FormatTime(last.Add(time.Duration(i)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		if code, _, _ := f.call("PUT", "/api/v1/projects/diab/retro/settings", tok["vera"], `{"rate":0,"period":"month"}`); code != 403 {
			t.Errorf("settings by the analyst: got %d, want 403", code)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/retro/settings", tok["olga"], `{"rate":0.5,"period":"month"}`); code != 200 {
			t.Fatalf("settings: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/retro/run", tok["olga"], `{"seed":7}`)
		var runs []airlock.RetroRun
		if code != 200 || json.Unmarshal([]byte(body), &runs) != nil || len(runs) != 1 || runs[0].Released != 7 || runs[0].Picked != 4 {
			t.Fatalf("run: got %d %s, want 4 of 7", code, body)
		}
		sue := f.signIn("sue", rootPW)
		if code, _, _ := f.call("GET", "/api/v1/projects/diab/retro/samples", sue, ""); code != 404 {
			t.Errorf("another agency's user: got %d, want 404", code)
		}
		if code, _, _ := f.call("GET", "/api/v1/projects/diab/retro/samples", tok["vera"], ""); code != 403 {
			t.Errorf("the analyst: got %d, want 403", code)
		}
		var ss []airlock.RetroSample
		code, body, _ = f.call("GET", "/api/v1/projects/diab/retro/samples", tok["olga"], "")
		if code != 200 || json.Unmarshal([]byte(body), &ss) != nil || len(ss) != 4 {
			t.Fatalf("samples: got %d %s", code, body)
		}
		id := ss[0].Request
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/retro/samples/"+id, tok["olga"], `{"outcome":"recalled","note":"a cell of 4 persons"}`); code != 204 {
			t.Fatalf("recall outcome: got %d %s", code, body)
		}
		r, err := al.Get(ctx, mustPrincipal(t, f.svc, "olga"), id)
		if err != nil || r.Status != airlock.Recalled {
			t.Errorf("after the recall outcome: %v %v, want recalled", r, err)
		}
	})
}
