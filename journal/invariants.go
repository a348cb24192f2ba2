package journal

import "fmt"

// invariantf reports a broken internal invariant: it panics in builds with
// invariant checking (-race or -tags invariants), so tests are loud, and
// returns an error wrapping ErrCorrupt otherwise, so production stops the
// operation instead of crashing.
func invariantf(format string, args ...any) error {
	err := fmt.Errorf("%w: invariant violated: "+format, append([]any{ErrCorrupt}, args...)...)
	if invariantsEnabled {
		panic(err)
	}
	return err
}
