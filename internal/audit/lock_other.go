//go:build !unix && !windows

package audit

import "os"

// lockFile does nothing where the system has no file locks (js, wasip1, plan9): one steward
// process at a time must write a log file there.
func lockFile(*os.File) error { return nil }
