package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/stewardhealth/steward", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	i := FromBuildInfo(bi)
	if i.Version != "v1.4.0" || i.Revision != rev || i.Time != "2026-12-01T10:00:00Z" || !i.Modified || i.GoVersion != "go1.26.8" {
		t.Fatalf("FromBuildInfo = %+v", i)
	}
	if got, want := i.String(), "v1.4.0 (0123456789ab, 2026-12-01T10:00:00Z, modified)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// A build with -buildvcs=false (this machine's GOFLAGS) records neither revision nor time: the
// version still says something, and nothing claims a revision.
func TestWithoutVCS(t *testing.T) {
	for _, bi := range []*debug.BuildInfo{nil, {Main: debug.Module{Path: "github.com/stewardhealth/steward"}}, {Main: debug.Module{Version: Devel}}} {
		i := FromBuildInfo(bi)
		if i.Version != Devel || i.Revision != "" || i.Modified {
			t.Errorf("FromBuildInfo(%v) = %+v", bi, i)
		}
		if s := i.String(); s != Devel {
			t.Errorf("String() = %q, want %q", s, Devel)
		}
	}
}

func TestStamp(t *testing.T) {
	defer func(s string) { Stamp = s }(Stamp)
	Stamp = "v2.0.0-rc1"
	if i := FromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: Devel}}); i.Version != "v2.0.0-rc1" {
		t.Errorf("a link-time stamp is not used: %+v", i)
	}
	if !strings.Contains(Get().Platform, "/") {
		t.Errorf("platform %q", Get().Platform)
	}
}
