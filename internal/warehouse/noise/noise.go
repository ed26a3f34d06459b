// Package noise makes the counts DATA_OBFSC users see, in one of two modes.
//
// Budget (the default) is Gaussian noise under a privacy budget (package budget keeps the
// account): a count is shown as round(count + σ·z), or as "< T" when that is below the
// threshold T or when the true count is at most the minimum m (then always, whatever the
// noise). The draw z is keyed: an HMAC, under a key derived from the warehouse key, the
// project and the key epoch, of what the answer is about — the query's canonical meaning
// (package querydef) and the version of the data it reads — and of what is counted (the total,
// or a breakdown cell). The same question about the same data always gets the same answer,
// so asking again teaches nothing and costs nothing; a new question gets fresh noise and
// spends from the budget. The key is deliberately not the answer's set of patients: noise
// keyed by the set makes two answers equal exactly when their sets are, and then X and
// "X AND NOT C" tell whether anybody in X has C (the attack harness's existence test: 91 %
// right with set-keyed noise).
//
// I2B2 is i2b2's GaussianBoxMuller: a true count at or under the minimum shows as 0 ("< 3");
// any other count gets fresh noise on every run (σ 1.323 for a total, 1.6 for each breakdown
// cell), rounded, never below 0. Repeating a query and averaging recovers the count; it is
// there for sites that need i2b2's exact behaviour, with no budget and no guarantee.
//
// A keyed draw is two 53-bit uniforms from HMAC-SHA256 turned into a standard normal by the
// Box–Muller transform; the shown value is rounded to a whole number, which is post-processing
// and leaves the Gaussian mechanism's guarantee intact.
package noise

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Mode is how obfuscated counts get their noise.
type Mode string

const (
	// Budget is keyed Gaussian noise under a privacy budget (the default).
	Budget Mode = "budget"
	// I2B2 is i2b2's GaussianBoxMuller: fresh noise on every run, no budget.
	I2B2 Mode = "i2b2"
)

// ErrSetKeyed explains why the "consistent" mode (noise keyed by the set of patients) is gone.
var ErrSetKeyed = errors.New(`noise mode "consistent" was removed: noise keyed by the answer's set of patients tells ` +
	`when two answers describe the same patients (X and X AND NOT C are equal exactly when nobody in X has C); use budget`)

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Budget, I2B2:
		return m, nil
	case "consistent":
		return "", ErrSetKeyed
	}
	return "", fmt.Errorf("noise mode %q (want budget or i2b2)", s)
}

// Obfuscate is i2b2's rule: a true count at or under the minimum shows as 0; otherwise the
// count plus σ·z, rounded, never below 0.
func Obfuscate(count int64, minimum int, sigma, z float64) int64 {
	if count <= int64(minimum) {
		return 0
	}
	return max(0, int64(math.Round(float64(count)+sigma*z)))
}

// Shown is how an i2b2-obfuscated count is written for people.
func Shown(n int64, minimum int) string {
	if n == 0 {
		return fmt.Sprintf("< %d", minimum)
	}
	return fmt.Sprintf("%d±3", n)
}

// Release is the budget mode's rule for a total: 0 (hidden) when the true count is at most
// the minimum, whatever the noise, or when the noisy count, rounded, is below the threshold;
// otherwise the noisy count, rounded.
func Release(count int64, minimum, threshold int, sigma, z float64) int64 {
	if count <= int64(minimum) {
		return 0
	}
	return Cell(count, threshold, sigma, z)
}

// Cell is the budget mode's rule for a breakdown cell: the noisy count, rounded, or 0 (hidden)
// when that is below the threshold. Cells have no rule on their true count: a breakdown is
// shown only with a total that is, and thresholding the noisy value is post-processing.
func Cell(count int64, threshold int, sigma, z float64) int64 {
	n := int64(math.Round(float64(count) + sigma*z))
	if n < int64(threshold) {
		return 0
	}
	return n
}

// ShownBudget is how a budget-mode count is written: "< T" when hidden, otherwise the count
// and the half-width of its 95 % interval ("250±20").
func ShownBudget(n int64, threshold int, sigma float64) string {
	if n == 0 {
		return "< " + strconv.Itoa(threshold)
	}
	return fmt.Sprintf("%d±%d", n, int64(math.Round(1.96*sigma)))
}

// boxMuller turns two uniform 64-bit numbers into a standard normal draw.
func boxMuller(a, b uint64) float64 {
	u1 := (float64(a>>11) + 0.5) / (1 << 53) // (0, 1)
	u2 := float64(b>>11) / (1 << 53)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// RandomZ is a fresh standard normal draw from the system's secure generator (i2b2's mode).
func RandomZ() float64 {
	var b [16]byte
	rand.Read(b[:])
	return boxMuller(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]))
}

// Key is an HMAC key derived from key and the parts (each length-prefixed, so that no two
// lists of parts give the same input).
func Key(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s;", len(p), p)
	}
	return m.Sum(nil)
}

// KeyedZ is the standard normal draw that the key and the parts always give.
func KeyedZ(key []byte, parts ...string) float64 {
	s := Key(key, parts...)
	return boxMuller(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:16]))
}
