//go:build !unix

package main

// restrictUmask does nothing where there is no umask; raftstore still
// makes the data directory private.
func restrictUmask() {}
