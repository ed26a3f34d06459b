package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/progress"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// newProgress shows a bar per table on a terminal; otherwise a line every progressEvery for
// each table in progress (rows, rate, and the share and time left against the row estimate)
// and one per finished table.
func newProgress(w io.Writer) (deid.Progress, func()) {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
		return &bars{p: p}, p.Wait
	}
	l := &lines{w: w}
	return l, progress.Every(progressEvery, l.tick)
}

type bars struct{ p *mpb.Progress }

func (b *bars) Table(name string, rows int64) deid.TableProgress {
	bar := b.p.AddBar(max(rows, 1),
		mpb.PrependDecorators(decor.Name(name, decor.WC{W: 24, C: decor.DindentRight}), decor.CountersNoUnit("%d / %d", decor.WCSyncWidth)),
		mpb.AppendDecorators(decor.AverageSpeed(nil, "%.0f rows/s", decor.WCSyncSpace), decor.OnComplete(decor.AverageETA(decor.ET_STYLE_MMSS, decor.WCSyncSpace), "done")),
	)
	return &barTable{bar: bar, total: max(rows, 1)}
}

type barTable struct {
	bar      *mpb.Bar
	n, total int64
}

func (t *barTable) Add(n int64) {
	t.n += n
	if t.n >= t.total { // the row estimate was low
		t.total = t.n + t.n/10 + 1
		t.bar.SetTotal(t.total, false)
	}
	t.bar.IncrInt64(n)
}

func (t *barTable) Done(err error) {
	if err != nil {
		t.bar.Abort(false)
		return
	}
	t.bar.SetTotal(t.n, true)
}

type lines struct {
	w      io.Writer
	mu     sync.Mutex
	active []*lineTable
}

func (l *lines) Table(name string, rows int64) deid.TableProgress {
	t := &lineTable{l: l, name: name, rows: rows, start: time.Now()}
	l.mu.Lock()
	l.active = append(l.active, t)
	l.mu.Unlock()
	return t
}

// tick writes a line for every table in progress (every progressEvery).
func (l *lines) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lt := range l.active {
		n, el := lt.n.Load(), time.Since(lt.start)
		rate := float64(n) / max(el.Seconds(), 1e-9)
		line := fmt.Sprintf("%-24s %10d rows %10.0f rows/s", lt.name, n, rate)
		if lt.rows > n && rate > 0 {
			left := time.Duration(float64(lt.rows-n) / rate * float64(time.Second))
			line += fmt.Sprintf("  about %d%% of %d, %s left", 100*n/lt.rows, lt.rows, left.Round(time.Second))
		}
		fmt.Fprintln(l.w, line)
	}
}

type lineTable struct {
	l     *lines
	name  string
	rows  int64 // the estimate the table was started with
	n     atomic.Int64
	start time.Time
}

func (t *lineTable) Add(n int64) { t.n.Add(n) }

func (t *lineTable) Done(err error) {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	for i, a := range t.l.active {
		if a == t {
			t.l.active = append(t.l.active[:i], t.l.active[i+1:]...)
			break
		}
	}
	el, n := time.Since(t.start), t.n.Load()
	if err != nil {
		fmt.Fprintf(t.l.w, "%-24s failed after %d rows\n", t.name, n)
		return
	}
	fmt.Fprintf(t.l.w, "%-24s %10d rows %10.0f rows/s %8s\n", t.name, n, float64(n)/max(el.Seconds(), 1e-9), el.Round(time.Millisecond))
}
