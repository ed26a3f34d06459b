package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// newProgress shows a bar per table on a terminal, and a line per finished table otherwise.
func newProgress(w io.Writer) (deid.Progress, func()) {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
		return &bars{p: p}, p.Wait
	}
	return &lines{w: w}, func() {}
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
	w  io.Writer
	mu sync.Mutex
}

func (l *lines) Table(name string, _ int64) deid.TableProgress {
	return &lineTable{l: l, name: name, start: time.Now()}
}

type lineTable struct {
	l     *lines
	name  string
	n     int64
	start time.Time
}

func (t *lineTable) Add(n int64) { t.n += n }

func (t *lineTable) Done(err error) {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	el := time.Since(t.start)
	if err != nil {
		fmt.Fprintf(t.l.w, "%-24s failed after %d rows\n", t.name, t.n)
		return
	}
	fmt.Fprintf(t.l.w, "%-24s %10d rows %10.0f rows/s %8s\n", t.name, t.n, float64(t.n)/max(el.Seconds(), 1e-9), el.Round(time.Millisecond))
}
