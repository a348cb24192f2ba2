package ecstore

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

var seedFlag = flag.Int64("ecstore.seed", 0, "seed for randomized tests (0: from the clock)")

// testSeed returns the seed for a randomized test and logs it.
func testSeed(t testing.TB) int64 {
	seed := *seedFlag
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -ecstore.seed=%d)", seed, seed)
	return seed
}

func TestMain(m *testing.M) {
	code := m.Run()
	lanes.wg.Wait() // the hashing workers end once idle
	if code == 0 {
		if leaked := leakedGoroutines(); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by ecstore:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of goroutines still running ecstore
// code. Every goroutine the package starts is joined before the call that
// started it returns, but for the hashing workers, which end once idle and
// which TestMain waits for; so there should be none. The few retries only
// let the runtime finish tearing down goroutines that already returned.
func leakedGoroutines() string {
	var leaked []string
	for range 100 {
		leaked = leaked[:0]
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "raftstore/ecstore.") && !strings.Contains(g, "TestMain") &&
				!strings.Contains(g, "leakedGoroutines") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		runtime.Gosched()
	}
	return strings.Join(leaked, "\n\n")
}
