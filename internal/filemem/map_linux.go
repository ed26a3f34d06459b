package filemem

import (
	"os"
	"syscall"
)

// mapFile maps a new file of size bytes under dir, removed from dir at once.
func mapFile(dir string, size int) ([]byte, error) {
	f, err := os.CreateTemp(dir, "steward-*.mem")
	if err != nil {
		return nil, mapped("create", dir, err)
	}
	defer f.Close() // the mapping keeps the file
	os.Remove(f.Name())
	fd := int(f.Fd())
	if err := syscall.Fallocate(fd, 0, 0, int64(size)); err != nil {
		if err != syscall.EOPNOTSUPP {
			return nil, mapped("reserve space", dir, err)
		}
		if err := f.Truncate(int64(size)); err != nil {
			return nil, mapped("size", dir, err)
		}
	}
	b, err := syscall.Mmap(fd, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, mapped("map", dir, err)
	}
	return b, nil
}

func unmap(b []byte) { syscall.Munmap(b) }

// inMemory reports whether dir is on tmpfs or ramfs.
func inMemory(dir string) bool {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return false
	}
	const tmpfs, ramfs = 0x01021994, 0x858458f6
	return st.Type == tmpfs || st.Type == ramfs
}
