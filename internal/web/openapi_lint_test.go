package web

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RedoclyVersion is the @redocly/cli that lints the OpenAPI document; .ci/run installs it.
const RedoclyVersion = "2.77.0"

// findRedocly returns the redocly script: $STEWARD_REDOCLY, or the one .ci/run installs under
// the user's cache directory.
func findRedocly() (string, error) {
	if p := os.Getenv("STEWARD_REDOCLY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	if dir, err := os.UserCacheDir(); err == nil {
		p := filepath.Join(dir, "steward", "redocly", "node_modules", ".bin", "redocly")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("redocly not found: set STEWARD_REDOCLY or run `npm install --prefix ~/.cache/steward/redocly @redocly/cli@" + RedoclyVersion + "`")
}

// TestOpenAPILint lints the document the server serves (openapi.json with openapi.d merged in)
// with Redocly CLI's strict rules. It skips without redocly, and fails so under CI=true.
func TestOpenAPILint(t *testing.T) {
	redocly, err := findRedocly()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	b, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(doc, b, 0o600); err != nil {
		t.Fatal(err)
	}
	config, err := filepath.Abs("testdata/redocly.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(redocly, "lint", "--config", config, "--format", "codeframe", doc)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("redocly lint: %v\n%s", err, out)
	}
}
