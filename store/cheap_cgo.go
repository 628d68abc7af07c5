//go:build linux && cgo

package store

/*
#include <malloc.h>

// herald_malloc_trim gives the C allocator's free memory back to the OS;
// it returns 1 when some was released. glibc only: elsewhere it does
// nothing.
static int herald_malloc_trim(void) {
#ifdef __GLIBC__
	return malloc_trim(0);
#else
	return 0;
#endif
}
*/
import "C"

// TrimCHeap returns the C allocator's free memory to the OS (glibc's
// malloc_trim), and reports whether any was released.
//
// Pebble allocates its block cache and memtables with C malloc, outside
// the Go heap. The cache churns: a scan fills it with blocks of tables
// that a compaction then deletes, which frees those blocks at once. glibc
// keeps freed chunks in its arenas, and the next fill lands only partly
// in them, so without a trim the process's RSS ratchets up with every
// fill although Pebble's own use stays under cache_size (measured: RSS
// +160 MiB in 12 minutes of the soak scenario at a steady 64 MiB cache
// and 137 MiB of Go runtime memory; MALLOC_ARENA_MAX=2 did not stop it).
func TrimCHeap() bool { return C.herald_malloc_trim() != 0 }
