package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Off a terminal, a file in progress gets a line every progressEvery, and one when it ends.
func TestProgressLinesWhenNotATerminal(t *testing.T) {
	old := progressEvery
	progressEvery = 20 * time.Millisecond
	defer func() { progressEvery = old }()
	var out lockedBuffer
	prog, stop := newUploadProgress(&out)
	f := prog.File("xt.dump", 100<<20, 10<<20)
	f.Add(20 << 20)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "30.0 MiB of 100.0 MiB (30%)") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	f.Add(70 << 20)
	f.Done(nil)
	stop()
	got := out.String()
	if !strings.Contains(got, "xt.dump                  30.0 MiB of 100.0 MiB (30%)") {
		t.Errorf("no progress line while the file was in progress:\n%s", got)
	}
	if !strings.Contains(got, "104857600 bytes, 94371840 now, 10485760 before") {
		t.Errorf("no closing line for the file:\n%s", got)
	}
}

// Off a terminal, a table being de-identified or loaded gets a line every progressEvery
// (rows, rate, share of the estimate and time left), then its closing line; before, nothing
// came until the table ended.
func TestTableProgressLinesWhenNotATerminal(t *testing.T) {
	old := progressEvery
	progressEvery = 20 * time.Millisecond
	defer func() { progressEvery = old }()
	var out lockedBuffer
	prog, stop := newProgress(&out)
	tb := prog.Table("observation_fact", 1000)
	tb.Add(250)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "about 25% of 1000") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	tb.Add(750)
	tb.Done(nil)
	stop()
	got := out.String()
	if !strings.Contains(got, "observation_fact                250 rows") || !strings.Contains(got, "about 25% of 1000") || !strings.Contains(got, " left") {
		t.Errorf("no progress line while the table was in progress:\n%s", got)
	}
	if !strings.Contains(got, "observation_fact               1000 rows") {
		t.Errorf("no closing line for the table:\n%s", got)
	}
	before := len(got)
	time.Sleep(60 * time.Millisecond)
	if len(out.String()) != before {
		t.Errorf("lines after the end:\n%s", out.String()[before:])
	}
}
