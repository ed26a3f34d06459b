// Package noise obfuscates the counts DATA_OBFSC users see, as i2b2 does: a true count at or
// under a minimum shows as 0 ("< 3"); any other count gets Gaussian noise, rounded, never
// below 0. The draw is either i2b2's (fresh on every answer) or consistent: an HMAC, under a
// key derived from the warehouse key, of the cohort itself (its patients, the scope and what
// is counted), so that the same set of patients — asked again or worded otherwise — always
// gets the same answer and averaging repeats recovers nothing.
package noise

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// Mode is how obfuscated counts get their noise.
type Mode string

const (
	// Consistent noise is drawn from an HMAC of the cohort under a server key: the same
	// cohort asked again (or written differently) gets the same answer, so repeating and
	// averaging recovers nothing.
	Consistent Mode = "consistent"
	// I2B2 is i2b2's GaussianBoxMuller: fresh noise on every run.
	I2B2 Mode = "i2b2"
)

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case Consistent, I2B2:
		return m, nil
	}
	return "", fmt.Errorf("noise mode %q (want consistent or i2b2)", s)
}

// Obfuscate is i2b2's rule: a true count at or under the minimum shows as 0; otherwise the
// count plus σ·z, rounded, never below 0.
func Obfuscate(count int64, minimum int, sigma, z float64) int64 {
	if count <= int64(minimum) {
		return 0
	}
	return max(0, int64(math.Round(float64(count)+sigma*z)))
}

// Shown is how an obfuscated count is written for people.
func Shown(n int64, minimum int) string {
	if n == 0 {
		return fmt.Sprintf("< %d", minimum)
	}
	return fmt.Sprintf("%d±3", n)
}

// Z is the standard normal draw for one count of a cohort: keyed by the cohort itself (its
// patients, the scope and what is counted) in consistent mode, fresh in i2b2's.
func Z(mode Mode, key []byte, scope, what string, cohort *roaring.Bitmap) float64 {
	if mode == I2B2 {
		return RandomZ()
	}
	m := hmac.New(sha256.New, key)
	var buf [4]byte
	it := cohort.Iterator()
	for it.HasNext() {
		binary.LittleEndian.PutUint32(buf[:], it.Next())
		m.Write(buf[:])
	}
	return KeyedZ(key, scope, what, string(m.Sum(nil)))
}

// boxMuller turns two uniform 64-bit numbers into a standard normal draw.
func boxMuller(a, b uint64) float64 {
	u1 := (float64(a>>11) + 0.5) / (1 << 53) // (0, 1)
	u2 := float64(b>>11) / (1 << 53)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// RandomZ is a fresh standard normal draw from the system's secure generator.
func RandomZ() float64 {
	var b [16]byte
	rand.Read(b[:])
	return boxMuller(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]))
}

// KeyedZ is the standard normal draw that the key and the parts always give.
func KeyedZ(key []byte, parts ...string) float64 {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s;", len(p), p)
	}
	s := m.Sum(nil)
	return boxMuller(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:16]))
}
