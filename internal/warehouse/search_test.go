package warehouse_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Search finds concepts by a part of their name or code in any case, the shortest paths
// first; LIKE's wildcards in the text are taken literally; a stranger to the project is
// refused.
func TestConceptSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		chapters, err := w.Children(ctx, users["agg"], "diab", `\i2b2\Diagnoses\ICD10\`)
		must(t, err)
		if len(chapters) < 3 {
			t.Fatalf("ICD-10 chapters: %d", len(chapters))
		}
		want := chapters[1]
		word := strings.Fields(want.Name)[len(strings.Fields(want.Name))-1]
		for _, text := range []string{strings.ToUpper(word), strings.ToLower(word)} {
			got, err := w.FindConcepts(ctx, users["obfsc"], "diab", text)
			must(t, err)
			found := false
			for i, c := range got {
				found = found || c.Path == want.Path
				if !strings.Contains(strings.ToLower(c.Name+" "+c.Code), strings.ToLower(word)) {
					t.Errorf("search %q: %s (%s) does not hold it", text, c.Path, c.Name)
				}
				if i > 0 && len(c.Path) < len(got[i-1].Path) {
					t.Errorf("search %q: %s after the longer %s", text, c.Path, got[i-1].Path)
				}
			}
			if !found {
				t.Errorf("search %q: %s (%s) not found in %d results", text, want.Path, want.Name, len(got))
			}
		}
		e11, err := w.FindConcepts(ctx, users["agg"], "diab", "e11")
		must(t, err)
		if len(e11) == 0 || !strings.Contains(e11[0].Path, `E11`) {
			t.Errorf("search by code e11: got %v", e11)
		}
		for _, text := range []string{"%", "_", "!", "a%c", "1_c"} {
			got, err := w.FindConcepts(ctx, users["agg"], "diab", text)
			must(t, err)
			for _, c := range got {
				if !strings.Contains(strings.ToLower(c.Name+" "+c.Code), text) {
					t.Errorf("search %q: %s (%s) does not hold it literally", text, c.Path, c.Name)
				}
			}
		}
		if _, err := w.FindConcepts(ctx, users["sam"], "diab", word); !errors.Is(err, derrors.NotFound) {
			t.Errorf("south's user searching north's project: got %v, want not found", err)
		}
	})
}
