// Package lint holds repository-wide checks that run as tests: the import
// arrows between ferry's parts (STYLE rule 1), no "testing" in production
// packages, and hashicorp/raft confined to raftstore.
package lint
