// Package progress is how a long job (de-identification, verification, a warehouse load, the
// demo) tells its caller how far it is, table by table; the command line shows it as bars
// on a terminal and as lines otherwise. It holds counts only, never a value.
package progress

import "time"

// Progress is told about each table as it goes.
type Progress interface {
	Table(name string, rows int64) TableProgress
}

// TableProgress follows one table: rows as they are done, then the end.
type TableProgress interface {
	Add(rows int64)
	Done(err error)
}

// Nop is a Progress that tells nobody.
type Nop struct{}

// Table implements Progress.
func (Nop) Table(string, int64) TableProgress { return Nop{} }

// Add implements TableProgress.
func (Nop) Add(int64) {}

// Done implements TableProgress.
func (Nop) Done(error) {}

// Every calls f every d in a goroutine of its own until stop is called; stop returns once
// f is no longer running (and will not run again).
func Every(d time.Duration, f func()) (stop func()) {
	quit, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(quit); <-stopped }
}
