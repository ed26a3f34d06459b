//go:build !linux

package filemem

func mapFile(string, int) ([]byte, error) { return nil, errUnsupported }

func unmap([]byte) {}

func inMemory(string) bool { return false }
