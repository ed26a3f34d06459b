package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id at OWASP's first recommended setting: 19 MiB of memory,
// 2 passes, 1 lane, a 16-byte random salt and a 32-byte key, kept in the PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$salt$key) so that the parameters can change later and old
// hashes still verify. At most one hash per core (GOMAXPROCS) runs at once: a wave of sign-ins
// queues for the slots, slowing sign-ins, not the queries beside them, and never exhausting
// memory (19 MiB a hash).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// hashing is called with each hash's slot held (tests count the hashes running at once).
var hashing = func() {}

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string of an argon2id hash of password.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argonKey(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func argonKey(password string, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	hashing()
	return argon2.IDKey([]byte(password), salt, t, m, p, n)
}

// CheckPassword reports whether password matches the PHC string, comparing in constant time.
// A malformed hash never matches.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 128 {
		return false
	}
	got := argonKey(password, salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummyHash is checked against when the user does not exist, so that an unknown name costs
// the same time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	b := make([]byte, 24)
	rand.Read(b)
	return HashPassword(string(b))
})
