//go:build !(linux && cgo)

package store

// TrimCHeap does nothing without cgo on Linux: Pebble then allocates in
// the Go heap, which the Go runtime returns to the OS itself.
func TrimCHeap() bool { return false }
