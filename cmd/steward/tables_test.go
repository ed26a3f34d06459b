package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/airlock"
)

// steward export table sends the analyst's request to the server with the token from the
// environment and prints the export request; a refusal of the server is an error.
func TestExportTableCommand(t *testing.T) {
	var got airlock.TableRequest
	var auth, path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, path = r.Header.Get("Authorization"), r.URL.Path
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		if got.Query == "qm-bad" {
			http.Error(w, `{"error":"invalid: dimension \"zip\""}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(airlock.Request{ID: "exp-1", Status: airlock.Released})
	}))
	defer srv.Close()
	t.Setenv("STEWARD_TOKEN", "tok-123")
	run := func(args ...string) (string, error) {
		cmd := newExportTable()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		cmd.SetArgs(append(args, "--server", srv.URL))
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("diab", "qm-1", "--dims", "sex, age", "--purpose", "by sex and age")
	if err != nil || !strings.Contains(out, `"exp-1"`) {
		t.Fatalf("got %q, %v; want the released request printed", out, err)
	}
	if auth != "Bearer tok-123" || path != "/api/v1/projects/diab/exports/tables" || got.Query != "qm-1" || strings.Join(got.Dimensions, "|") != "sex|age" || got.Purpose != "by sex and age" {
		t.Fatalf("sent %q to %s: %+v", auth, path, got)
	}
	if _, err := run("diab", "qm-1", "--dims", "sex", "--purpose", "x", "--format", "xlsx"); err != nil || got.Format != "xlsx" {
		t.Fatalf("--format xlsx: sent %+v, %v", got, err)
	}
	if _, err := run("diab", "qm-1", "--dims", "concept,visit_type", "--concepts", `ICD10:E11.9,\i2b2\Diagnoses\ICD10\I\`, "--statistic", "events", "--purpose", "x"); err != nil ||
		strings.Join(got.Dimensions, "|") != "concept|visit_type" || strings.Join(got.Concepts, "|") != `ICD10:E11.9|\i2b2\Diagnoses\ICD10\I\` || got.Statistic != "events" {
		t.Fatalf("concept levels: %v, sent %+v", err, got)
	}
	if _, err := run("diab", "qm-1", "--dims", "concept,sex", "--concepts", "G:insulin", "--structural-zero", "G:insulin,unknown", "--structural-zero", "G:insulin,M",
		"--structural-reason", "no insulin here", "--purpose", "x"); err != nil ||
		len(got.StructuralZeros) != 2 || strings.Join(got.StructuralZeros[0], "|") != "G:insulin|unknown" || strings.Join(got.StructuralZeros[1], "|") != "G:insulin|M" || got.StructuralReason != "no insulin here" {
		t.Fatalf("structural zeros: %v, sent %+v", err, got)
	}
	if _, err := run("diab", "qm-bad", "--dims", "zip", "--purpose", "x"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("a refusal: got %v, want the server's 400", err)
	}
}
