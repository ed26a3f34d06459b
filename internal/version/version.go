// Package version says which build of Steward is running, from the build information the Go
// toolchain embeds (module version, VCS revision and time, whether the tree was modified).
// Reports, the server's start audit entry and /healthz carry it, so a reader can tell which
// program made them.
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Stamp, when set at link time (go build -ldflags "-X github.com/stewardhealth/steward/internal/version.Stamp=v1.2.3"),
// replaces the module version the toolchain recorded (a release script that builds outside a module proxy).
var Stamp string

// Info is one build's identity.
type Info struct {
	Version   string `json:"version"`            // the module's version, "(devel)" for a build from a working tree
	Revision  string `json:"revision,omitempty"` // VCS commit; absent when built with -buildvcs=false
	Time      string `json:"time,omitempty"`     // the commit's time (RFC 3339)
	Modified  bool   `json:"modified,omitempty"` // the working tree had changes not committed
	GoVersion string `json:"go"`                 // the toolchain that built it
	Platform  string `json:"platform"`           // GOOS/GOARCH
}

// Devel is the version of a build that carries no module version.
const Devel = "(devel)"

var (
	once sync.Once
	info Info
)

// Get returns the running program's build identity.
func Get() Info {
	once.Do(func() {
		bi, _ := debug.ReadBuildInfo()
		info = FromBuildInfo(bi)
	})
	return info
}

// String is Get().String().
func String() string { return Get().String() }

// FromBuildInfo reads a build's identity; bi may be nil (a binary without build information).
func FromBuildInfo(bi *debug.BuildInfo) Info {
	i := Info{Version: Devel, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if v := bi.Main.Version; v != "" {
			i.Version = v
		}
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if Stamp != "" {
		i.Version = Stamp
	}
	return i
}

// String is the one-line form: "steward VERSION (REVISION[12], TIME[, modified])", the part
// in brackets only when the build recorded a revision.
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		b.WriteString(" (" + rev)
		if i.Time != "" {
			b.WriteString(", " + i.Time)
		}
		if i.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	return b.String()
}
