//go:build race || invariants

package journal

const invariantsEnabled = true
