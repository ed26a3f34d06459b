package filemem

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

type line struct {
	keys [6]uint64
	tags [6]uint16
	_    [4]byte
}

// mappings lists the lines of /proc/self/maps that map files under dir.
func mappings(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps here")
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, dir+"/") {
			out = append(out, l)
		}
	}
	return out
}

func TestMakePutsLargeTablesInARemovedFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files back tables on Linux only")
	}
	dir := t.TempDir()
	d, err := New(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 1 << 20 // 64 MiB of lines
	s, free := Make[line](d, n)
	for i := range s {
		if s[i].keys[0] != 0 || s[i].tags[5] != 0 {
			t.Fatalf("line %d is not zero", i)
		}
		s[i].keys[i%6] = uint64(i) + 1
		s[i].tags[i%6] = uint16(i)
	}
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Errorf("the heap grew by %d MiB for a 64 MiB table that should be in a file", grew>>20)
	}
	for i := range s {
		if s[i].keys[i%6] != uint64(i)+1 || s[i].tags[i%6] != uint16(i) {
			t.Fatalf("line %d did not keep what was written", i)
		}
	}
	maps := mappings(t, dir)
	if len(maps) != 1 || !strings.HasSuffix(maps[0], "(deleted)") {
		t.Errorf("want one mapping of a removed file under the work directory, got %q", maps)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("the work directory holds %d files; the table's file should be removed at once", len(names))
	}
	free()
	free() // twice is harmless
	if maps := mappings(t, dir); len(maps) != 0 {
		t.Errorf("after free, still mapped: %q", maps)
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestMakeKeepsSmallTablesAndNilDirOnTheHeap(t *testing.T) {
	dir := t.TempDir()
	d, err := New(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	small, free := Make[uint64](d, 1000)
	defer free()
	big, free2 := Make[uint64]((*Dir)(nil), 1<<20)
	defer free2()
	small[999], big[1<<20-1] = 1, 1
	if maps := mappings(t, dir); len(maps) != 0 {
		t.Errorf("small or nil-Dir tables were put in files: %q", maps)
	}
}

func TestMakeRefusesTypesWithPointers(t *testing.T) {
	d, err := New(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Make of a type holding a string did not panic")
		}
	}()
	Make[struct{ s string }](d, 1<<16)
}

func TestNewNamesAnUnwritableDirectory(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/file"
	os.WriteFile(file, nil, 0o600)
	if _, err := New(file+"/sub", 0); err == nil || !strings.Contains(err.Error(), "work directory") {
		t.Errorf("want an error naming the work directory, got %v", err)
	}
}

func TestDefaultPathIsNotInMemory(t *testing.T) {
	if p := DefaultPath(); inMemory(p) && !inMemory("/var/tmp") {
		t.Errorf("DefaultPath %s is a file system in memory while /var/tmp is not", p)
	}
}
