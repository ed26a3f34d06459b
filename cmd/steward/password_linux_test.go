package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// syncBuffer is a bytes.Buffer two goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openPTY opens a pseudo-terminal pair: the master (what a person's terminal emulator holds)
// and the slave (the program's stdin).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// The password is typed on a terminal twice and never echoed; a mismatch and a stdin that is
// not a terminal are refused.
func TestPasswordPromptOnATerminal(t *testing.T) {
	type result struct {
		pw  string
		err error
	}
	for _, tc := range []struct{ first, again, want string }{
		{"Fj4-overt-quilt-Maple9", "Fj4-overt-quilt-Maple9", ""},
		{"Fj4-overt-quilt-Maple9", "Fj4-overt-quilt-Maple8", "the two passwords differ"},
	} {
		master, slave := openPTY(t)
		var prompts syncBuffer
		done := make(chan result, 1)
		go func() {
			pw, err := askPassword(slave, &prompts, "Password")
			done <- result{pw, err}
		}()
		var seen syncBuffer // what the terminal shows the person
		go func() {
			b := make([]byte, 256)
			for {
				n, err := master.Read(b)
				seen.Write(b[:n])
				if err != nil {
					return
				}
			}
		}()
		// Type each line once echo is off: after the prompt was printed, give the program a
		// moment to switch the terminal (a person is no faster).
		waitFor := func(s string) {
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(prompts.String(), s); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("no prompt %q; printed %q", s, prompts.String())
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		waitFor("Password: ")
		master.Write([]byte(tc.first + "\n"))
		waitFor("Again: ")
		master.Write([]byte(tc.again + "\n"))
		var r result
		select {
		case r = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the prompt did not return")
		}
		if tc.want == "" && (r.err != nil || r.pw != tc.first) {
			t.Errorf("typed twice: got %v, password of %d characters, want the typed one", r.err, len(r.pw))
		}
		if tc.want != "" && (r.err == nil || !strings.Contains(r.err.Error(), tc.want)) {
			t.Errorf("got %v, want %q", r.err, tc.want)
		}
		time.Sleep(50 * time.Millisecond)
		if strings.Contains(seen.String(), "Maple") {
			t.Errorf("the terminal echoed the password")
		}
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := askPassword(f, &bytes.Buffer{}, "Password"); err == nil || !strings.Contains(err.Error(), "--password-file") {
		t.Errorf("stdin not a terminal: got %v, want a refusal naming --password-file", err)
	}
}
