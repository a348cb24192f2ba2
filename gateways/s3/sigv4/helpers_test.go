package sigv4

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// seedFlag fixes the seed of every randomized test:
//
//	go test ./gateways/s3/sigv4/ -run TestX -sigv4.seed=1234
//
// or SIGV4_SEED=1234. Without either a fresh seed is drawn and logged.
var seedFlag = flag.Uint64("sigv4.seed", 0, "seed for randomized sigv4 tests (0: random; env SIGV4_SEED also works)")

// newRand returns a seeded generator and logs the seed so a failure can be
// replayed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		if s := os.Getenv("SIGV4_SEED"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("SIGV4_SEED=%q: %v", s, err)
			}
			seed = v
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -sigv4.seed=%d or SIGV4_SEED=%d)", seed, seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// fakeClock is a settable clock for Config.Now, safe across the test and
// server goroutines.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.Set(t)
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// Test credentials.
const (
	testAK     = "AKIAFERRYTEST0000001"
	testSecret = "fErRy/SeCrEt+KeY/0123456789abcdefghijkl"
	otherAK    = "AKIAFERRYTEST0000002"
	otherSK    = "another-secret-key-for-the-second-user"
)

func testLookup(ak string) (string, string, error) {
	switch ak {
	case testAK:
		return testSecret, "user:alice", nil
	case otherAK:
		return otherSK, "user:bob", nil
	}
	return "", "", s3err.ErrInvalidAccessKeyID
}

// testVerifier returns a Verifier on clock with the default config, after
// mutate.
func testVerifier(t testing.TB, clock *fakeClock, mutate ...func(*Config)) *Verifier {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Lookup = testLookup
	cfg.Now = clock.Now
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// outcome is what the test server saw for one request.
type outcome struct {
	res       *Result
	verifyErr error
	data      []byte
	bodyErr   error
	trailer   http.Header
	// spec is what ParseChecksumHeaders read; sums the base64 digests a
	// ChecksumReader computed over the decoded body (MD5 under "MD5").
	spec ChecksumSpec
	sums map[string]string
	// path and query as the server received them, for diagnostics.
	uri string
}

// harness is a real HTTP server whose handler runs Verify and reads
// Result.Body to the end, so requests signed by real clients cross a real
// wire and reach Verify exactly as they would in production.
type harness struct {
	t   testing.TB
	v   *Verifier
	srv *httptest.Server
	out chan outcome
}

func newHarness(t testing.TB, v *Verifier, tls bool) *harness {
	t.Helper()
	h := &harness{t: t, v: v, out: make(chan outcome, 16)}
	if tls {
		h.srv = httptest.NewTLSServer(h)
	} else {
		h.srv = httptest.NewServer(h)
	}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o := outcome{uri: r.RequestURI}
	res, err := h.v.Verify(r)
	if err != nil {
		o.verifyErr = err
	} else if spec, err := ParseChecksumHeaders(r.Header); err != nil {
		o.verifyErr = err
	} else {
		// Read the body as the gateway does: through a ChecksumReader.
		o.res, o.spec = res, spec
		cr := NewChecksumReader(res.Body, spec, ChecksumCRC64NVME)
		o.data, o.bodyErr = io.ReadAll(cr)
		o.trailer = res.Trailer()
		o.sums = map[string]string{"MD5": base64.StdEncoding.EncodeToString(cr.MD5())}
		for _, a := range ChecksumAlgorithms() {
			if v, ok := cr.Checksum(a); ok {
				o.sums[string(a)] = v
			}
		}
	}
	h.out <- o
	switch {
	case o.verifyErr != nil:
		s3err.Write(w, r, o.verifyErr, "test")
	case o.bodyErr != nil:
		s3err.Write(w, r, o.bodyErr, "test")
	case r.Method == http.MethodPost && r.URL.Query().Has("delete"):
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>`)
	case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
	case r.Method == http.MethodGet:
		_, _ = io.WriteString(w, "hello")
	default:
		w.Header().Set("ETag", `"0"`)
		w.WriteHeader(http.StatusOK)
	}
}

// do sends req through the server and returns what the handler saw.
func (h *harness) do(req *http.Request) outcome {
	h.t.Helper()
	resp, err := h.srv.Client().Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return h.next(err)
}

// next returns the handler's outcome for the request just sent. clientErr
// is reported if the request never reached the handler.
func (h *harness) next(clientErr error) outcome {
	h.t.Helper()
	select {
	case o := <-h.out:
		return o
	case <-time.After(20 * time.Second):
		h.t.Fatalf("request never reached the handler (client error: %v)", clientErr)
		return outcome{}
	}
}

// mustOK fails unless Verify accepted the request and the body read to
// io.EOF.
func (o outcome) mustOK(t testing.TB) outcome {
	t.Helper()
	if o.verifyErr != nil {
		t.Fatalf("Verify(%s): %v", o.uri, o.verifyErr)
	}
	if o.bodyErr != nil {
		t.Fatalf("Body(%s): %v", o.uri, o.bodyErr)
	}
	return o
}

// err is the first error of the outcome: from Verify, else from the body.
func (o outcome) err() error {
	if o.verifyErr != nil {
		return o.verifyErr
	}
	return o.bodyErr
}

// wantErr fails unless the outcome failed with an error of want's code.
func (o outcome) wantErr(t testing.TB, want *s3err.Error) {
	t.Helper()
	err := o.err()
	if err == nil {
		t.Fatalf("%s: accepted, want %s", o.uri, want.Code)
	}
	var se *s3err.Error
	if !errors.As(err, &se) {
		t.Fatalf("%s: error %v is not an *s3err.Error", o.uri, err)
	}
	if se.Code != want.Code || se.HTTPStatus != want.HTTPStatus {
		t.Fatalf("%s: got %s (%d) %q, want %s (%d)", o.uri, se.Code, se.HTTPStatus, se.Message, want.Code, want.HTTPStatus)
	}
}
