package noise

import (
	"math"
	"strconv"
	"testing"
)

// stats returns the mean and standard deviation of xs.
func stats(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// draws is a source of standard normal draws per noise mode: fresh for i2b2's, keyed by a
// different cohort each time for the consistent one.
var draws = map[Mode]func(i int) float64{
	I2B2:       func(int) float64 { return RandomZ() },
	Consistent: func(i int) float64 { return KeyedZ([]byte("test key"), "north", "PATIENT_COUNT_XML", strconv.Itoa(i)) },
}

func TestNoiseMeanSpreadAndMinimum(t *testing.T) {
	const n = 40000
	for mode, z := range draws {
		for _, c := range []struct {
			name  string
			sigma float64
		}{{"total", 1.323}, {"breakdown", 1.6}} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(Obfuscate(100, 3, c.sigma, z(i)))
			}
			mean, sd := stats(xs)
			// Rounding adds a uniform error of variance 1/12.
			want := math.Sqrt(c.sigma*c.sigma + 1.0/12)
			if math.Abs(mean-100) > 4*want/math.Sqrt(n) {
				t.Errorf("%s %s: mean %.4f, want 100 within 4 standard errors", mode, c.name, mean)
			}
			if math.Abs(sd-want) > 0.03 {
				t.Errorf("%s %s: spread %.4f, want %.4f", mode, c.name, sd, want)
			}
		}
		for count := int64(0); count <= 3; count++ {
			for i := range 1000 {
				if got := Obfuscate(count, 3, 1.323, z(i)); got != 0 {
					t.Fatalf("%s: true count %d shown as %d, want 0", mode, count, got)
				}
			}
		}
		if Shown(0, 3) != "< 3" || Shown(17, 3) != "17±3" {
			t.Errorf("shown: got %q and %q", Shown(0, 3), Shown(17, 3))
		}
		seen4 := map[int64]bool{}
		for i := range 1000 {
			seen4[Obfuscate(4, 3, 1.323, z(i))] = true
		}
		if len(seen4) < 4 {
			t.Errorf("%s: a true 4 is shown as only %v: not noised", mode, seen4)
		}
	}
}

// TestAveragingAttack repeats each query 30 times and rounds the mean of the answers. With
// i2b2's fresh noise that recovers the true count almost always (REFERENCE: 95 % after 30);
// with consistent noise the 30 answers are one answer, so the attacker learns no more than
// from one run (about 30 %).
func TestAveragingAttack(t *testing.T) {
	const trials, runs = 2000, 30
	recovered := map[Mode]map[int]int{I2B2: {}, Consistent: {}}
	for mode := range draws {
		for trial := range trials {
			truth := int64(50 + trial%200)
			sum := 0.0
			for r := 1; r <= runs; r++ {
				i := trial // consistent: the same cohort every run
				if mode == I2B2 {
					i = trial*runs + r
				}
				sum += float64(Obfuscate(truth, 3, 1.323, draws[mode](i)))
				if r == 1 || r == 7 || r == runs {
					if int64(math.Round(sum/float64(r))) == truth {
						recovered[mode][r]++
					}
				}
			}
		}
	}
	rate := func(m Mode, r int) float64 { return float64(recovered[m][r]) / trials }
	t.Logf("exact recovery after 1 / 7 / 30 runs: i2b2 %.2f %.2f %.2f; consistent %.2f %.2f %.2f",
		rate(I2B2, 1), rate(I2B2, 7), rate(I2B2, 30), rate(Consistent, 1), rate(Consistent, 7), rate(Consistent, 30))
	if r := rate(I2B2, 30); r < 0.9 {
		t.Errorf("i2b2 noise after 30 runs: recovered %.2f, want about 0.95 (the attack this guards against)", r)
	}
	for _, r := range []int{7, runs} {
		if rate(Consistent, r) != rate(Consistent, 1) {
			t.Errorf("consistent noise: recovery after %d runs %.2f differs from after 1 run %.2f", r, rate(Consistent, r), rate(Consistent, 1))
		}
	}
	if r := rate(Consistent, 1); r < 0.2 || r > 0.4 {
		t.Errorf("one run recovers %.2f, want about 0.30", r)
	}
}
