package s3load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startFake starts a fakeS3, configured by setup before it serves.
func startFake(t *testing.T, setup func(f *fakeS3)) (*fakeS3, string) {
	t.Helper()
	f := newFakeS3()
	if setup != nil {
		setup(f)
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// testConfig is a small run whose phases end by MaxOps, never by time.
func testConfig(endpoint string) Config {
	cfg := DefaultConfig()
	cfg.Endpoint = endpoint
	cfg.AccessKey, cfg.SecretKey = "test-access", "test-secret"
	cfg.Duration = time.Hour
	cfg.MaxOps = 20
	cfg.Concurrency = 4
	cfg.Objects = 8
	cfg.ObjectSize = 100*KiB + 3 // not a multiple of anything
	return cfg
}

// checkNoLeaks fails if any goroutine still runs code of this package
// (outside its tests) or of the AWS SDK. Run waits for everything it
// starts, so this holds the moment Run returns: there is nothing to wait
// for here.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	gs := strings.Split(string(buf), "\n\n")
	for _, g := range gs[1:] { // gs[0] is this goroutine
		for _, line := range strings.Split(g, "\n") {
			ours := strings.Contains(line, "/internal/s3load/") && !strings.Contains(line, "_test.go:")
			if strings.HasPrefix(line, "\t") && (ours || strings.Contains(line, "/aws-sdk-go-v2/")) {
				t.Errorf("goroutine left running:\n%s", g)
				break
			}
		}
	}
}

func phaseByOp(t *testing.T, res Result, op string) PhaseResult {
	t.Helper()
	for _, p := range res.Phases {
		if p.Op == op {
			return p
		}
	}
	t.Fatalf("no %s phase in %+v", op, res.Phases)
	return PhaseResult{}
}

func TestRunPutThenGetVerified(t *testing.T) {
	f, url := startFake(t, nil)
	cfg := testConfig(url)
	cfg.Verify = true
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(cfg.ObjectSize)
	put, get := phaseByOp(t, res, "put"), phaseByOp(t, res, "get")
	for _, p := range []PhaseResult{put, get} {
		if p.Ops != cfg.MaxOps || p.Errors != 0 || p.Canceled != 0 || p.Bytes != cfg.MaxOps*size {
			t.Errorf("%s: ops %d errors %d canceled %d bytes %d, want %d ops of %d bytes and nothing else",
				p.Op, p.Ops, p.Errors, p.Canceled, p.Bytes, cfg.MaxOps, size)
		}
		if l := p.Latency; l.Count != p.Ops || l.Min <= 0 || l.P50 < l.Min || l.P90 < l.P50 || l.P99 < l.P90 || l.Max < l.P99 {
			t.Errorf("%s: latency summary out of order: %+v", p.Op, l)
		}
		if p.Elapsed <= 0 || p.OpsPerSec <= 0 || p.MiBPerSec <= 0 {
			t.Errorf("%s: elapsed %v ops/s %v MiB/s %v", p.Op, p.Elapsed, p.OpsPerSec, p.MiBPerSec)
		}
	}
	if got := f.count("PutObject"); got != int(cfg.MaxOps) {
		t.Errorf("server saw %d PutObject, want %d", got, cfg.MaxOps)
	}
	if got := f.count("GetObject"); got != int(cfg.MaxOps) {
		t.Errorf("server saw %d GetObject, want %d", got, cfg.MaxOps)
	}
	// The server holds exactly Objects keys, each the generated payload.
	if n := f.numObjects(); n != cfg.Objects {
		t.Errorf("server holds %d objects, want %d", n, cfg.Objects)
	}
	gen := NewGenerator(cfg.Seed)
	for i := range cfg.Objects {
		key := (&phase{cfg: cfg}).keyName(i)
		obj, ok := f.object(cfg.Bucket, key)
		if !ok {
			t.Fatalf("object %q missing", key)
		}
		want := make([]byte, size)
		gen.Fill(want, key, 0)
		if !bytes.Equal(obj.body(), want) {
			t.Errorf("object %q differs from its payload", key)
		}
	}
	checkNoLeaks(t)
}

func TestRunVerifyCatchesCorruptGet(t *testing.T) {
	const flipAt = 70_000 // in the second 64 KiB block
	var corrupted atomic.Int64
	f, url := startFake(t, func(f *fakeS3) {
		f.corrupt = func(key string, body []byte) {
			if strings.HasSuffix(key, "/00000003") {
				body[flipAt] ^= 0x10
				corrupted.Add(1)
			}
		}
	})
	cfg := testConfig(url)
	cfg.Verify = true
	cfg.MaxOps = 16 // two GETs of each of the 8 keys
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := phaseByOp(t, res, "get")
	if corrupted.Load() != 2 || get.Errors != 2 || get.Ops != 14 {
		t.Errorf("corrupted %d GETs; phase counted %d errors and %d ops, want 2 errors and 14 ops",
			corrupted.Load(), get.Errors, get.Ops)
	}
	if len(get.ErrorKinds) != 1 || get.ErrorKinds[0].Kind != KindVerify || len(get.ErrorKinds[0].Samples) != 2 {
		t.Errorf("error kinds %+v, want one kind %q with two samples", get.ErrorKinds, KindVerify)
	}
	if f.count("GetObject") != 16 {
		t.Errorf("server saw %d GETs, want 16", f.count("GetObject"))
	}
	checkNoLeaks(t)
}

func TestRunGetMissingObjectsCountsErrorsByKind(t *testing.T) {
	_, url := startFake(t, nil)
	cfg := testConfig(url)
	cfg.Op = OpGet
	cfg.MaxOps = 5
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 1 {
		t.Fatalf("phases %+v, want only get", res.Phases)
	}
	get := res.Phases[0]
	if get.Op != "get" || get.Ops != 0 || get.Errors != 5 {
		t.Errorf("get: ops %d errors %d, want 0 and 5", get.Ops, get.Errors)
	}
	if len(get.ErrorKinds) != 1 || get.ErrorKinds[0].Kind != "NoSuchKey" || get.ErrorKinds[0].Count != 5 ||
		len(get.ErrorKinds[0].Samples) != maxErrorSamples {
		t.Errorf("error kinds %+v, want NoSuchKey x5 with %d samples", get.ErrorKinds, maxErrorSamples)
	}
	if get.Latency.Count != 0 {
		t.Errorf("failed operations recorded latencies: %+v", get.Latency)
	}
	checkNoLeaks(t)
}

// TestRunChecksumSettings checks what reaches the server under each
// checksum mode: when_supported (the default) sends a CRC32 with every
// PUT, and plain HTTP never gets aws-chunked bodies (fakeS3 would refuse
// them).
func TestRunChecksumSettings(t *testing.T) {
	for _, tc := range []struct {
		checksum        Checksum
		unsigned        bool
		crc, hex, unsig int
	}{
		{"", false, 3, 3, 0}, // the default is when_supported
		{ChecksumWhenSupported, false, 3, 3, 0},
		{ChecksumWhenRequired, false, 0, 3, 0},
		{ChecksumWhenSupported, true, 3, 0, 3},
		{ChecksumWhenRequired, true, 0, 0, 3},
	} {
		name := string(tc.checksum)
		if name == "" {
			name = "default"
		}
		if tc.unsigned {
			name += "/unsigned"
		}
		t.Run(name, func(t *testing.T) {
			f, url := startFake(t, nil)
			cfg := testConfig(url)
			cfg.Op = OpPut
			cfg.MaxOps = 3
			cfg.Checksum = tc.checksum
			cfg.UnsignedPayload = tc.unsigned
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p := res.Phases[0]; p.Ops != 3 || p.Errors != 0 {
				t.Fatalf("put: %d ops, %d errors %+v", p.Ops, p.Errors, p.ErrorKinds)
			}
			crc, hex, unsig := f.header("crc32"), f.header("sha256:hex"), f.header("sha256:UNSIGNED-PAYLOAD")
			if crc != tc.crc || hex != tc.hex || unsig != tc.unsig {
				t.Errorf("server saw crc32 %d, sha256 %d, unsigned %d; want %d, %d, %d",
					crc, hex, unsig, tc.crc, tc.hex, tc.unsig)
			}
			checkNoLeaks(t)
		})
	}
}

func TestRunMultipartThenVerifiedGet(t *testing.T) {
	f, url := startFake(t, nil)
	cfg := testConfig(url)
	cfg.ObjectSize = 6*MiB + 5 // parts of 5 MiB and 1 MiB + 5
	cfg.MultipartThreshold = 5 * MiB
	cfg.MultipartPartSize = 5 * MiB
	cfg.MultipartConcurrency = 2
	cfg.Concurrency = 2
	cfg.Objects = 2
	cfg.MaxOps = 2
	cfg.Verify = true
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Multipart || res.PartSize != 5*MiB {
		t.Errorf("result multipart %v part size %v", res.Multipart, res.PartSize)
	}
	for _, p := range res.Phases {
		if p.Ops != 2 || p.Errors != 0 {
			t.Errorf("%s: %d ops, %d errors %+v", p.Op, p.Ops, p.Errors, p.ErrorKinds)
		}
	}
	if f.count("PutObject") != 0 || f.count("UploadPart") != 4 || f.count("CompleteMultipartUpload") != 2 {
		t.Errorf("server saw %d PutObject, %d UploadPart, %d Complete; want 0, 4, 2",
			f.count("PutObject"), f.count("UploadPart"), f.count("CompleteMultipartUpload"))
	}
	checkNoLeaks(t)
}

func TestRunInterruptKeepsPartialResult(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, url := startFake(t, func(f *fakeS3) {
		f.onPutObject = func(n int) {
			if n == 5 {
				cancel()
			}
		}
	})
	cfg := testConfig(url)
	cfg.MaxOps = 0 // only the interrupt ends this run
	cfg.Concurrency = 2
	res, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if !res.Interrupted || len(res.Phases) != 1 {
		t.Fatalf("interrupted %v, phases %+v; want the partial put phase only", res.Interrupted, res.Phases)
	}
	put := res.Phases[0]
	if put.Errors != 0 || put.Ops+put.Canceled < 5 || put.Ops < 3 {
		t.Errorf("put: ops %d canceled %d errors %d; want no errors and at least 5 operations",
			put.Ops, put.Canceled, put.Errors)
	}
	var out strings.Builder
	if err := res.Format(&out); err != nil || !strings.Contains(out.String(), "INTERRUPTED") {
		t.Errorf("Format: %v\n%s", err, out.String())
	}
	checkNoLeaks(t)
}

func TestRunRejectsInvalidConfig(t *testing.T) {
	cfg := DefaultConfig() // no credentials
	cfg.Concurrency = -1
	_, err := Run(t.Context(), cfg)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Run: %v, want ErrInvalidConfig", err)
	}
}

// TestMultipartUploadHeapBounded uploads one 64 MiB object in 5 MiB parts,
// two at a time, and samples the heap every time the server has read
// 256 KiB of a part: the upload must never hold a part, let alone the
// object. The server keeps only part digests.
func TestMultipartUploadHeapBounded(t *testing.T) {
	const size = 64 * MiB
	var peak atomic.Uint64
	f, url := startFake(t, func(f *fakeS3) {
		f.discard = true
		f.onBodyChunk = func() {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			for old := peak.Load(); ms.HeapInuse > old && !peak.CompareAndSwap(old, ms.HeapInuse); old = peak.Load() {
			}
		}
	})
	cfg := testConfig(url)
	cfg.Op = OpPut
	cfg.ObjectSize = size
	cfg.MultipartThreshold = 8 * MiB
	cfg.MultipartPartSize = 5 * MiB
	cfg.MultipartConcurrency = 2
	cfg.Concurrency = 1
	cfg.Objects = 1
	cfg.MaxOps = 1

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Phases[0]; p.Ops != 1 || p.Errors != 0 {
		t.Fatalf("put: %d ops, %d errors %+v", p.Ops, p.Errors, p.ErrorKinds)
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("heap in use: %.1f MiB before, peak %.1f MiB during the upload (+%.1f MiB) for a %v object",
		float64(base.HeapInuse)/(1<<20), float64(peak.Load())/(1<<20), float64(growth)/(1<<20), ByteSize(size))
	if limit := int64(12 * MiB); growth > limit {
		t.Errorf("heap grew by %d bytes during the upload, want under %d (two 5 MiB parts would be 10 MiB)", growth, limit)
	}

	// The payload arrived cut at 5 MiB. (TestRunMultipartThenVerifiedGet
	// checks multipart content byte for byte; here the first and last
	// parts are enough to show the cuts.)
	key := (&phase{cfg: cfg}).keyName(0)
	obj, ok := f.object(cfg.Bucket, key)
	if !ok || len(obj.parts) != 13 {
		t.Fatalf("object %q: present %v, want 13 parts", key, ok)
	}
	p := NewGenerator(cfg.Seed).Payload(key, int64(size))
	buf := make([]byte, 5*MiB)
	for i, part := range obj.parts {
		off := int64(i) * int64(5*MiB)
		if want := min(int64(5*MiB), int64(size)-off); part.size != want {
			t.Errorf("part %d: %d bytes, want %d", i+1, part.size, want)
		}
		if i == 0 || i == len(obj.parts)-1 {
			n, _ := p.ReadAt(buf, off)
			if part.sum != sha256.Sum256(buf[:n]) {
				t.Errorf("part %d differs from the payload", i+1)
			}
		}
	}
	checkNoLeaks(t)
}

func TestRunWithDiskComparison(t *testing.T) {
	_, url := startFake(t, nil)
	cfg := testConfig(url)
	cfg.Op = OpPut
	cfg.MaxOps = 3
	cfg.DiskDir = t.TempDir()
	cfg.DiskSize = 1 * MiB
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Disk
	if d == nil || d.BytesPerSec <= 0 || d.PutBytesPerSec <= 0 || d.PutToTarget <= 0 {
		t.Fatalf("disk result %+v", d)
	}
	if want := d.BytesPerSec / 2 * 4 / 6; math.Abs(d.TargetPutBytesPerSec-want) > want*1e-9 {
		t.Errorf("target %v, want disk/2 / (6/4) = %v", d.TargetPutBytesPerSec, want)
	}
	checkNoLeaks(t)
}
