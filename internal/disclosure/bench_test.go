package disclosure

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchTable builds a 100 × 100 table (10,000 cells, with margins) from 1,000,000 person
// rows over 8 projects: each person falls in a cell (skewed, so some cells are small and
// get suppressed) and brings a cost. The CSV has one row per cell and project.
func benchTable(b *testing.B) []byte {
	b.Helper()
	const persons, side, projects = 1_000_000, 100, 8
	type k struct{ r, c, p int }
	n := map[k]int{}
	cost := map[k]float64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range persons {
		x := k{rng.IntN(side), int(float64(side) * rng.Float64() * rng.Float64()), rng.IntN(projects)}
		n[x]++
		cost[x] += 50 + 1000*rng.Float64()
	}
	var buf bytes.Buffer
	buf.WriteString("region,age,project,patients,cost\n")
	for r := range side {
		for c := range side {
			for p := range projects {
				x := k{r, c, p}
				if n[x] > 0 || p == 0 { // an empty cell is a row of 0 persons
					fmt.Fprintf(&buf, "r%d,a%d,P%d,%d,%.2f\n", r, c, p, n[x], cost[x])
				}
			}
		}
	}
	return buf.Bytes()
}

// BenchmarkCheck reads and checks the 10,000-cell table (the goal: under 1 s per check).
func BenchmarkCheck(b *testing.B) {
	data := benchTable(b)
	m := Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"region", "age"},
		Magnitudes: []string{"cost"}, Population: "bench"}
	var r *Result
	for b.Loop() {
		t, head, err := ReadCSV("bench.csv", bytes.NewReader(data), m)
		if err != nil {
			b.Fatal(err)
		}
		r = Check(t, head, Rules{}, nil)
	}
	b.ReportMetric(float64(r.Cells), "cells")
	b.ReportMetric(float64(len(r.Hidden)), "hidden")
	b.Logf("verdict %s: %d cells, %d hidden, %d CSV rows", r.Verdict, r.Cells, len(r.Hidden), bytes.Count(data, []byte("\n"))-1)
}
