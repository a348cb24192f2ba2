package s3load

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// LatencyMethod states how percentiles are computed; Result carries it.
const LatencyMethod = "log-linear HDR-style histogram: nearest-rank percentiles within 0.4%; min, mean and max exact"

// Result is the outcome of a Run. It marshals to JSON as is.
type Result struct {
	Endpoint    string   `json:"endpoint"`
	Bucket      string   `json:"bucket"`
	Op          Op       `json:"op"`
	ObjectSize  ByteSize `json:"object_size_bytes"`
	Concurrency int      `json:"concurrency"`
	Objects     int      `json:"objects"`
	// Multipart is set when PUTs went up in parts of PartSize.
	Multipart bool     `json:"multipart"`
	PartSize  ByteSize `json:"part_size_bytes,omitempty"`
	Checksum  string   `json:"checksum"`
	Verify    bool     `json:"verify"`
	Seed      int64    `json:"seed"`
	// LatencyMethod is the LatencyMethod constant.
	LatencyMethod string        `json:"latency_method"`
	Phases        []PhaseResult `json:"phases"`
	// Disk is set when Config.DiskDir was.
	Disk *DiskResult `json:"disk,omitempty"`
	// Interrupted is set when ctx ended the run early: the last phase is
	// partial and later ones are missing.
	Interrupted bool `json:"interrupted"`
}

// PhaseResult measures one phase. Ops, Bytes and Latency count successful
// operations only; Canceled counts operations cut short by the end of ctx.
type PhaseResult struct {
	Op         string         `json:"op"`
	Ops        int64          `json:"ops"`
	Bytes      int64          `json:"bytes"`
	Errors     int64          `json:"errors"`
	ErrorKinds []ErrorKind    `json:"error_kinds,omitempty"`
	Canceled   int64          `json:"canceled"`
	Elapsed    time.Duration  `json:"elapsed_ns"`
	OpsPerSec  float64        `json:"ops_per_sec"`
	MiBPerSec  float64        `json:"mib_per_sec"`
	Latency    LatencySummary `json:"latency"`
}

// DiskResult compares PUT throughput with the local disk: the target is
// half the disk's sequential write bandwidth divided by the EC expansion
// (k+m)/k (PutTarget).
type DiskResult struct {
	Dir                  string  `json:"dir"`
	Bytes                int64   `json:"bytes"`
	BytesPerSec          float64 `json:"bytes_per_sec"`
	ECData               int     `json:"ec_data"`
	ECParity             int     `json:"ec_parity"`
	TargetPutBytesPerSec float64 `json:"target_put_bytes_per_sec"`
	// PutBytesPerSec and PutToTarget are set when a PUT phase ran.
	PutBytesPerSec float64 `json:"put_bytes_per_sec,omitempty"`
	PutToTarget    float64 `json:"put_to_target,omitempty"`
}

func newResult(cfg Config) Result {
	r := Result{
		Endpoint:      cfg.Endpoint,
		Bucket:        cfg.Bucket,
		Op:            cfg.Op,
		ObjectSize:    cfg.ObjectSize,
		Concurrency:   cfg.Concurrency,
		Objects:       cfg.Objects,
		Multipart:     cfg.multipart() && cfg.Op != OpGet,
		Checksum:      string(cfg.Checksum),
		Verify:        cfg.Verify,
		Seed:          cfg.Seed,
		LatencyMethod: LatencyMethod,
		Phases:        []PhaseResult{},
	}
	if r.Multipart {
		r.PartSize = cfg.MultipartPartSize
	}
	return r
}

// compareDisk fills the PUT side of Disk from the PUT phase, if any.
func (r *Result) compareDisk() {
	if r.Disk == nil {
		return
	}
	for _, p := range r.Phases {
		if p.Op == "put" && p.Elapsed > 0 {
			r.Disk.PutBytesPerSec = float64(p.Bytes) / p.Elapsed.Seconds()
			if r.Disk.TargetPutBytesPerSec > 0 {
				r.Disk.PutToTarget = r.Disk.PutBytesPerSec / r.Disk.TargetPutBytesPerSec
			}
		}
	}
}

// Format writes r as a table for people.
func (r Result) Format(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint %s  bucket %s  op %s  size %v  concurrency %d  objects %d  checksum %s  seed %d",
		r.Endpoint, r.Bucket, r.Op, r.ObjectSize, r.Concurrency, r.Objects, r.Checksum, r.Seed)
	if r.Multipart {
		fmt.Fprintf(&b, "  multipart parts %v", r.PartSize)
	}
	if r.Verify {
		b.WriteString("  verify")
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tops\terrors\tops/s\tMiB/s\tp50\tp90\tp99\tmax\telapsed")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\n", p.Op, p.Ops, p.Errors,
			p.OpsPerSec, p.MiBPerSec, fmtDur(p.Latency.P50), fmtDur(p.Latency.P90),
			fmtDur(p.Latency.P99), fmtDur(p.Latency.Max), fmtDur(p.Elapsed))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range r.Phases {
		if p.Canceled > 0 {
			fmt.Fprintf(&b, "%s: %d operations canceled by the interrupt\n", p.Op, p.Canceled)
		}
		for _, k := range p.ErrorKinds {
			fmt.Fprintf(&b, "%s errors: %s x%d\n", p.Op, k.Kind, k.Count)
			for _, s := range k.Samples {
				fmt.Fprintf(&b, "    %s\n", s)
			}
		}
	}
	if d := r.Disk; d != nil {
		fmt.Fprintf(&b, "disk %s: sequential write+fsync of %v: %.1f MiB/s; EC %d+%d: PUT target %.1f MiB/s",
			d.Dir, ByteSize(d.Bytes), d.BytesPerSec/(1<<20), d.ECData, d.ECParity, d.TargetPutBytesPerSec/(1<<20))
		if d.PutBytesPerSec > 0 {
			fmt.Fprintf(&b, "; PUT %.1f MiB/s = %.0f%% of target", d.PutBytesPerSec/(1<<20), 100*d.PutToTarget)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "latency: %s\n", r.LatencyMethod)
	if r.Interrupted {
		b.WriteString("INTERRUPTED: the last phase is partial\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtDur rounds d to three significant digits.
func fmtDur(d time.Duration) string {
	unit := time.Duration(1)
	for v := d; v >= 1000; v /= 10 {
		unit *= 10
	}
	return d.Round(unit).String()
}
