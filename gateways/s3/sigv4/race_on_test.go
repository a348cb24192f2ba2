//go:build race

package sigv4

// raceEnabled shortens the heaviest randomized tests under -race, which
// slows hashing tenfold; the full variants run without it.
const raceEnabled = true
