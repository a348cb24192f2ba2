// Package mmaptrim releases the resident pages of a process's read-only
// file mappings.
//
// bbolt (under raft-boltdb) reads its file through a shared, read-only
// mmap and writes with pwrite. Every page a read touched stays mapped and
// counts in the process's resident set until the kernel reclaims it under
// pressure, so the RSS of a node grows with the size of the raft log file,
// although those pages are only page cache. Trim drops them from the
// process's page tables with madvise(MADV_DONTNEED): for a shared file
// mapping this discards nothing (the page cache keeps the data, and the
// file on disk is unchanged), and the next access faults the page back in.
//
// Trim is safe while other goroutines read the mapping: a concurrent read
// takes a minor fault and sees the same bytes. It must not be used on
// private (copy-on-write) or writable mappings, where DONTNEED would throw
// away modifications; Trim only touches mappings that are shared and not
// writable.
package mmaptrim
