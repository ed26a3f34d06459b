package database

import (
	"fmt"
	"sync/atomic"
)

var checkpointHook atomic.Pointer[func(point string)]

// Checkpoint marks a point of an in-place run at which an interruption must leave every
// table either as it was or as a committed group left it: between groups, inside a group's
// staging, after its swap, before and after its commit. It does nothing unless a test has
// set a hook (SetCheckpointHook), which typically kills the process there (kill -9) to prove
// that the same command run again gives an uninterrupted run's result.
func Checkpoint(point string) {
	if f := checkpointHook.Load(); f != nil {
		(*f)(point)
	}
}

// Checkpointf is Checkpoint with the point's name formatted only when a hook is set.
func Checkpointf(format string, args ...any) {
	if f := checkpointHook.Load(); f != nil {
		(*f)(fmt.Sprintf(format, args...))
	}
}

// SetCheckpointHook makes Checkpoint call f (nil: nothing). It is for tests only.
func SetCheckpointHook(f func(point string)) {
	if f == nil {
		checkpointHook.Store(nil)
		return
	}
	checkpointHook.Store(&f)
}
