//go:build !linux

package mmaptrim

// Trim does nothing where madvise and /proc are not available.
func Trim(path string) (int64, error) { return 0, nil }
