package s3load

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleResult() Result {
	r := newResult(Config{
		Endpoint: "http://127.0.0.1:9000", Bucket: "s3bench", Op: OpBoth, ObjectSize: 4 * MiB,
		Concurrency: 16, Objects: 1000, Checksum: ChecksumWhenSupported, Verify: true, Seed: 7,
		MultipartThreshold: 64 * MiB,
	})
	r.Phases = []PhaseResult{{
		Op: "put", Ops: 1200, Bytes: 1200 * 4 << 20, Errors: 3, Elapsed: 10 * time.Second,
		OpsPerSec: 120, MiBPerSec: 480,
		ErrorKinds: []ErrorKind{{Kind: "SlowDown", Count: 3, Samples: []string{"put \"k\": slow down"}}},
		Latency: LatencySummary{Count: 1200, Min: 2 * time.Millisecond, Mean: 130 * time.Millisecond,
			P50: 123456 * time.Microsecond, P90: 201 * time.Millisecond, P99: 1234567 * time.Microsecond, Max: 2 * time.Second},
	}, {
		Op: "get", Ops: 2000, Bytes: 2000 * 4 << 20, Elapsed: 10*time.Second + 4*time.Millisecond,
		OpsPerSec: 199.92, MiBPerSec: 799.68, Canceled: 2,
		Latency: LatencySummary{Count: 2000, Min: 900 * time.Microsecond, Mean: 80 * time.Millisecond,
			P50: 75 * time.Millisecond, P90: 99 * time.Millisecond, P99: 150 * time.Millisecond, Max: 310 * time.Millisecond},
	}}
	r.Disk = &DiskResult{Dir: "/data", Bytes: 1 << 30, BytesPerSec: 1200 << 20, ECData: 4, ECParity: 2,
		TargetPutBytesPerSec: 400 << 20}
	r.compareDisk()
	return r
}

func TestFormat(t *testing.T) {
	var b strings.Builder
	if err := sampleResult().Format(&b); err != nil {
		t.Fatal(err)
	}
	want := `endpoint http://127.0.0.1:9000  bucket s3bench  op both  size 4MiB  concurrency 16  objects 1000  checksum when_supported  seed 7  verify
phase  ops   errors  ops/s  MiB/s  p50    p90    p99    max    elapsed
put    1200  3       120.0  480.0  123ms  201ms  1.23s  2s     10s
get    2000  0       199.9  799.7  75ms   99ms   150ms  310ms  10s
put errors: SlowDown x3
    put "k": slow down
get: 2 operations canceled by the interrupt
disk /data: sequential write+fsync of 1GiB: 1200.0 MiB/s; EC 4+2: PUT target 400.0 MiB/s; PUT 480.0 MiB/s = 120% of target
latency: ` + LatencyMethod + "\n"
	if b.String() != want {
		t.Errorf("Format:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestResultJSON(t *testing.T) {
	r := sampleResult()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"p99_ns":1234567000`, `"mib_per_sec":480`, `"object_size_bytes":4194304`,
		`"elapsed_ns":10000000000`, `"kind":"SlowDown"`, `"put_to_target":1.2`, `"interrupted":false`} {
		if !strings.Contains(string(b), field) {
			t.Errorf("JSON lacks %s:\n%s", field, b)
		}
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Phases[0].Latency != r.Phases[0].Latency || *back.Disk != *r.Disk || back.ObjectSize != r.ObjectSize {
		t.Errorf("JSON round trip changed the result:\n%+v\n%+v", back, r)
	}
}

func TestFmtDur(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{999, "999ns"},
		{1234, "1.23µs"},
		{123456 * time.Microsecond, "123ms"},
		{1234567 * time.Microsecond, "1.23s"},
		{90 * time.Second, "1m30s"},
	} {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
