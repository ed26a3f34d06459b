package noise

import (
	"errors"
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
// different question each time for the budget mode.
var draws = map[Mode]func(i int) float64{
	I2B2:   func(int) float64 { return RandomZ() },
	Budget: func(i int) float64 { return KeyedZ([]byte("test key"), "question", strconv.Itoa(i), "total") },
}

func TestNoiseMeanSpreadAndMinimum(t *testing.T) {
	const n = 40000
	for mode, z := range draws {
		for _, sigma := range []float64{1.323, 1.6, 10} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = float64(Obfuscate(1000, 3, sigma, z(i)))
				if mode == Budget {
					xs[i] = float64(Release(1000, 3, 60, sigma, z(i)))
				}
			}
			mean, sd := stats(xs)
			// Rounding adds a uniform error of variance 1/12.
			want := math.Sqrt(sigma*sigma + 1.0/12)
			if math.Abs(mean-1000) > 4*want/math.Sqrt(n) {
				t.Errorf("%s σ %g: mean %.4f, want 1000 within 4 standard errors", mode, sigma, mean)
			}
			if math.Abs(sd/want-1) > 0.03 {
				t.Errorf("%s σ %g: spread %.4f, want %.4f", mode, sigma, sd, want)
			}
		}
		for count := int64(0); count <= 3; count++ {
			for i := range 1000 {
				if got := Obfuscate(count, 3, 1.323, z(i)); got != 0 {
					t.Fatalf("%s: true count %d shown as %d by i2b2's rule, want 0", mode, count, got)
				}
				if got := Release(count, 3, 5, 10, z(i)+10); got != 0 {
					t.Fatalf("%s: true count %d shown as %d with noise of 10σ, want 0 whatever the noise", mode, count, got)
				}
			}
		}
		seen4 := map[int64]bool{}
		for i := range 1000 {
			seen4[Obfuscate(4, 3, 1.323, z(i))] = true
		}
		if len(seen4) < 4 {
			t.Errorf("%s: a true 4 is shown as only %v: not noised", mode, seen4)
		}
	}
	if Shown(0, 3) != "< 3" || Shown(17, 3) != "17±3" {
		t.Errorf("shown: got %q and %q", Shown(0, 3), Shown(17, 3))
	}
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "< 60"}, {250, "250±20"}} {
		if got := ShownBudget(c.n, 60, 10); got != c.want {
			t.Errorf("ShownBudget(%d): got %q, want %q", c.n, got, c.want)
		}
	}
}

// A noisy count under the threshold is hidden, at or over it shown; a cell has no rule on its
// true count.
func TestThreshold(t *testing.T) {
	for _, c := range []struct {
		count int64
		z     float64
		want  int64
	}{{100, 0, 100}, {65, -0.5, 60}, {65, -0.56, 0}, {59, 0, 0}, {4, 6, 64}, {3, 6, 0}} {
		if got := Release(c.count, 3, 60, 10, c.z); got != c.want {
			t.Errorf("Release(%d, z %g): got %d, want %d", c.count, c.z, got, c.want)
		}
	}
	if got := Cell(2, 60, 10, 6); got != 62 {
		t.Errorf("Cell(2, z 6): got %d, want 62 (no rule on a cell's true count)", got)
	}
}

func TestParseMode(t *testing.T) {
	for s, want := range map[string]Mode{"budget": Budget, "I2B2": I2B2, " i2b2 ": I2B2} {
		if got, err := ParseMode(s); err != nil || got != want {
			t.Errorf("ParseMode(%q): got %q, %v; want %q", s, got, err, want)
		}
	}
	if _, err := ParseMode("consistent"); !errors.Is(err, ErrSetKeyed) {
		t.Errorf("ParseMode(consistent): got %v, want the reason it was removed", err)
	}
	if _, err := ParseMode("laplace"); err == nil {
		t.Error("ParseMode(laplace): no error")
	}
}

// TestAveragingAttack repeats each query 30 times and rounds the mean of the answers. With
// i2b2's fresh noise that recovers the true count almost always (REFERENCE: 95 % after 30);
// with keyed noise the 30 answers are one answer, so the attacker learns no more than from
// one run (about 30 % at σ 1.323).
func TestAveragingAttack(t *testing.T) {
	const trials, runs = 2000, 30
	recovered := map[Mode]map[int]int{I2B2: {}, Budget: {}}
	for mode := range draws {
		for trial := range trials {
			truth := int64(50 + trial%200)
			sum := 0.0
			for r := 1; r <= runs; r++ {
				i := trial // keyed: the same question every run
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
	t.Logf("exact recovery after 1 / 7 / 30 runs: i2b2 %.2f %.2f %.2f; keyed %.2f %.2f %.2f",
		rate(I2B2, 1), rate(I2B2, 7), rate(I2B2, 30), rate(Budget, 1), rate(Budget, 7), rate(Budget, 30))
	if r := rate(I2B2, 30); r < 0.9 {
		t.Errorf("i2b2 noise after 30 runs: recovered %.2f, want about 0.95 (the attack this guards against)", r)
	}
	for _, r := range []int{7, runs} {
		if rate(Budget, r) != rate(Budget, 1) {
			t.Errorf("keyed noise: recovery after %d runs %.2f differs from after 1 run %.2f", r, rate(Budget, r), rate(Budget, 1))
		}
	}
	if r := rate(Budget, 1); r < 0.2 || r > 0.4 {
		t.Errorf("one run recovers %.2f, want about 0.30", r)
	}
}
