//go:build unix

package main

import "syscall"

// restrictUmask makes every file and directory ferryd creates private to
// its user (0600 and 0700): the raft log, snapshots, journal and index
// hold access key secrets, and so do the files of the libraries below
// (Pebble, hashicorp/raft) that do not choose their own modes.
func restrictUmask() { syscall.Umask(0o077) }
