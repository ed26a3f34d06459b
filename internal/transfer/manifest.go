// Package transfer hands a de-identified copy over: a bundle of backup files described by a
// manifest, uploaded to a destination through a short-lived, revocable grant, and checked
// against the manifest before the grant is revoked.
package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ManifestName is the manifest's file name inside a bundle directory and among uploaded blobs.
const ManifestName = "manifest.json"

// Manifest lists a bundle's files with their sizes and SHA-256 digests.
type Manifest struct {
	Version   int       `json:"version"` // 1
	Created   time.Time `json:"created"`
	Source    Source    `json:"source"`
	Format    string    `json:"format"`              // how the backup was made, e.g. "pg_dump -Fc"
	Encrypted string    `json:"encrypted,omitempty"` // "age" when files are encrypted to a recipient
	Files     []File    `json:"files"`
}

// Source says what was backed up, without credentials.
type Source struct {
	Kind     string `json:"kind"` // sqlite, postgres, mysql
	Database string `json:"database"`
}

// File is one file of a bundle, named relative to the bundle directory.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// HashFile returns the File entry for path, named name.
func HashFile(path, name string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", path, err)
	}
	return File{Name: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseManifest(path, b)
}

// ParseManifest decodes a manifest; name is used in errors.
func ParseManifest(name string, b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a bundle manifest: %w", name, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s: manifest version %d, want 1", name, m.Version)
	}
	for i, f := range m.Files {
		if f.Name == "" || f.Name != filepath.Base(f.Name) || f.Name == ManifestName || len(f.SHA256) != 64 || f.Size < 0 {
			return nil, fmt.Errorf("%s: file %d: a plain file name, a size and a 64-digit sha256 are required", name, i+1)
		}
	}
	return &m, nil
}

// Write writes dir/manifest.json (through a temporary file, so a reader never sees half of it).
func (m *Manifest) Write(dir string) error { return writeJSON(dir, ManifestName, m, 0o644) }

// writeJSON writes v as indented JSON to dir/name through a temporary file renamed over it.
func writeJSON(dir, name string, v any, perm os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), perm); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}
