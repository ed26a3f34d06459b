//go:build !linux

package filemem

import "errors"

var errUnsupported = errors.New("memory-mapped files are not supported here")

func mapFile(string, int) ([]byte, error) { return nil, errUnsupported }

func unmap([]byte) {}

func inMemory(string) bool { return false }
