package warehouse

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// NoiseMode is how obfuscated counts get their noise.
type NoiseMode string

const (
	// Consistent noise is drawn from an HMAC of the query's canonical meaning under a server
	// key: the same cohort asked again (or written differently) gets the same answer, so
	// repeating and averaging recovers nothing.
	Consistent NoiseMode = "consistent"
	// I2B2 is i2b2's GaussianBoxMuller: fresh noise on every run.
	I2B2 NoiseMode = "i2b2"
)

// ParseNoiseMode reads a mode name.
func ParseNoiseMode(s string) (NoiseMode, error) {
	switch m := NoiseMode(strings.ToLower(s)); m {
	case Consistent, I2B2:
		return m, nil
	}
	return "", fmt.Errorf("noise mode %q (want consistent or i2b2)", s)
}

// obfuscate is i2b2's rule: a true count at or under the minimum shows as 0; otherwise the
// count plus σ·z, rounded, never below 0.
func obfuscate(count int64, minimum int, sigma, z float64) int64 {
	if count <= int64(minimum) {
		return 0
	}
	return max(0, int64(math.Round(float64(count)+sigma*z)))
}

// shown is how an obfuscated count is written for people.
func shown(n int64, minimum int) string {
	if n == 0 {
		return fmt.Sprintf("< %d", minimum)
	}
	return fmt.Sprintf("%d±3", n)
}

// boxMuller turns two uniform 64-bit numbers into a standard normal draw.
func boxMuller(a, b uint64) float64 {
	u1 := (float64(a>>11) + 0.5) / (1 << 53) // (0, 1)
	u2 := float64(b>>11) / (1 << 53)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// randomZ is a fresh standard normal draw from the system's secure generator.
func randomZ() float64 {
	var b [16]byte
	rand.Read(b[:])
	return boxMuller(binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]))
}

// keyedZ is the standard normal draw that the key and the parts always give.
func keyedZ(key []byte, parts ...string) float64 {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s;", len(p), p)
	}
	s := m.Sum(nil)
	return boxMuller(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:16]))
}
