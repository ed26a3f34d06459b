package access

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSignInHashesQueueForTheCores: a wave of sign-ins (three per core, each checking a
// password) runs at most GOMAXPROCS hashes at once — the others wait for a slot, leaving the
// cores' share beyond them to queries — and every one is checked in the end.
func TestSignInHashesQueueForTheCores(t *testing.T) {
	n := runtime.GOMAXPROCS(0)
	hash := HashPassword("correct horse battery")
	var running, peak, entered atomic.Int64
	release := make(chan struct{})
	prev := hashing
	hashing = func() {
		r := running.Add(1)
		for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
		}
		entered.Add(1)
		<-release
		running.Add(-1)
	}
	t.Cleanup(func() { hashing = prev })
	wave := 3 * n
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range wave {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if CheckPassword(hash, "correct horse battery") {
				ok.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for entered.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// Give the rest of the wave every chance to start a hash it should not.
	for range 100 {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if got := running.Load(); got != int64(n) {
		t.Errorf("%d hashes running at once while %d sign-ins wait, want %d (GOMAXPROCS)", got, wave, n)
	}
	close(release)
	wg.Wait()
	if peak.Load() != int64(n) || ok.Load() != int64(wave) {
		t.Errorf("peak %d hashes at once, %d of %d sign-ins checked; want a peak of %d and all checked", peak.Load(), ok.Load(), wave, n)
	}
}
