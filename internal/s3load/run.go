package s3load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

// ErrNoObjects is returned by Run when the PUT phase of an OpBoth run wrote
// nothing for the GET phase to read.
var ErrNoObjects = errors.New("s3load: the put phase wrote no objects to read")

// getBufferBytes is each GET worker's read buffer.
const getBufferBytes = 128 << 10

// Run validates cfg, creates the bucket if it is missing, optionally
// measures the disk (Config.DiskDir), and runs the phases Config.Op
// selects, one after the other. Failed operations are counted in the
// result, not returned. Run returns an error when the configuration is
// invalid, the setup fails, the PUT phase of OpBoth wrote nothing, or ctx
// ends; in the last case the result holds the phases measured so far, with
// Interrupted set, and the error wraps ctx.Err().
//
// Run returns only after every goroutine it started has exited and the
// idle connections of its private connection pool are closed.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	cfg = cfg.withDefaults()
	res := newResult(cfg)
	interrupted := func(err error) (Result, error) {
		res.Interrupted = true
		return res, fmt.Errorf("s3load: interrupted: %w", err)
	}
	if cfg.DiskDir != "" {
		cfg.Logger.Info("measuring disk write bandwidth", "dir", cfg.DiskDir, "bytes", int64(cfg.DiskSize))
		bps, err := DiskWriteBandwidth(cfg.DiskDir, int64(cfg.DiskSize))
		if err != nil {
			return res, fmt.Errorf("s3load: disk measurement: %w", err)
		}
		res.Disk = &DiskResult{
			Dir:                  cfg.DiskDir,
			Bytes:                int64(cfg.DiskSize),
			BytesPerSec:          bps,
			ECData:               cfg.ECData,
			ECParity:             cfg.ECParity,
			TargetPutBytesPerSec: PutTarget(bps, cfg.ECData, cfg.ECParity),
		}
	}
	if ctx.Err() != nil {
		return interrupted(ctx.Err())
	}

	c := newClient(cfg)
	defer c.close()
	if err := c.ensureBucket(ctx, cfg); err != nil {
		if ctx.Err() != nil {
			return interrupted(ctx.Err())
		}
		return res, err
	}

	gen := NewGenerator(cfg.Seed)
	var written []int32
	if cfg.Op == OpPut || cfg.Op == OpBoth {
		bitmap := make([]atomic.Uint64, (cfg.Objects+63)/64)
		p := &phase{name: "put", cfg: cfg, c: c, gen: gen,
			key: func(n int64) int { return int(n % int64(cfg.Objects)) }, written: bitmap}
		res.Phases = append(res.Phases, p.run(ctx))
		res.compareDisk()
		if ctx.Err() != nil {
			return interrupted(ctx.Err())
		}
		for i := range cfg.Objects {
			if bitmap[i/64].Load()&(1<<(i%64)) != 0 {
				written = append(written, int32(i))
			}
		}
	}
	if cfg.Op == OpGet || cfg.Op == OpBoth {
		key := func(n int64) int { return int(n % int64(cfg.Objects)) }
		if cfg.Op == OpBoth {
			if len(written) == 0 {
				return res, ErrNoObjects
			}
			key = func(n int64) int { return int(written[n%int64(len(written))]) }
		}
		p := &phase{name: "get", cfg: cfg, c: c, gen: gen, key: key}
		res.Phases = append(res.Phases, p.run(ctx))
		if ctx.Err() != nil {
			return interrupted(ctx.Err())
		}
	}
	return res, nil
}

// client is the SDK client, the upload manager, and the connection pool
// they share, which Run owns.
type client struct {
	s3 *s3.Client
	up *manager.Uploader
	tr *http.Transport
}

func newClient(cfg Config) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = cfg.poolSize()
	tr.MaxIdleConnsPerHost = cfg.poolSize()
	tr.DisableCompression = true
	tr.ReadBufferSize = 64 << 10
	tr.WriteBufferSize = 64 << 10
	// HTTP/1.1 only: one connection per request in flight, as S3 clients
	// use, rather than HTTP/2 streams multiplexed on one connection.
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)

	opts := s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		HTTPClient:   &http.Client{Transport: tr},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.MaxAttempts
			o.RateLimiter = ratelimit.None // no client-side retry quota under load
		}),
	}
	upCalc := aws.RequestChecksumCalculationWhenSupported
	opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	if cfg.Checksum == ChecksumWhenRequired {
		upCalc = aws.RequestChecksumCalculationWhenRequired
		opts.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opts.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	if cfg.UnsignedPayload {
		opts.APIOptions = append(opts.APIOptions, addUnsignedPayload)
	}
	cl := s3.New(opts)
	// The manager is deprecated in favour of feature/s3/transfermanager,
	// which go.mod does not carry yet.
	up := manager.NewUploader(cl, func(u *manager.Uploader) {
		u.PartSize = int64(cfg.MultipartPartSize)
		u.Concurrency = cfg.MultipartConcurrency
		u.BufferProvider = nil // parts are sections of the Payload's ReaderAt: no copies
		u.RequestChecksumCalculation = upCalc
	})
	return &client{s3: cl, up: up, tr: tr}
}

func (c *client) close() { c.tr.CloseIdleConnections() }

// addUnsignedPayload marks the payload hash UNSIGNED-PAYLOAD at the start
// of the finalize step, before the checksum middleware, which would
// otherwise compute a SHA-256 alongside the CRC on plain HTTP.
func addUnsignedPayload(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("s3loadUnsignedPayload",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
			middleware.FinalizeOutput, middleware.Metadata, error,
		) {
			return next.HandleFinalize(v4.SetPayloadHash(ctx, "UNSIGNED-PAYLOAD"), in)
		}), middleware.Before)
}

// ensureBucket creates cfg.Bucket unless HeadBucket finds it.
func (c *client) ensureBucket(ctx context.Context, cfg Config) error {
	_, err := c.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)})
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*types.NotFound](err); !ok {
		return fmt.Errorf("s3load: head bucket %q: %w", cfg.Bucket, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}
	if cfg.Region != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(cfg.Region),
		}
	}
	if _, err := c.s3.CreateBucket(ctx, in); err != nil {
		if _, ok := errors.AsType[*types.BucketAlreadyOwnedByYou](err); ok {
			return nil
		}
		return fmt.Errorf("s3load: create bucket %q: %w", cfg.Bucket, err)
	}
	cfg.Logger.Info("created bucket", "bucket", cfg.Bucket)
	return nil
}

// phase runs one operation kind with Config.Concurrency workers.
type phase struct {
	name string // "put" or "get"
	cfg  Config
	c    *client
	gen  *Generator
	// key maps the n-th operation of the phase to a key index.
	key func(n int64) int
	// written, for a PUT phase, is the bitmap of key indexes written.
	written []atomic.Uint64

	deadline time.Time
	next     atomic.Int64 // operations claimed
}

// worker is one worker goroutine's private tally.
type worker struct {
	hist     Histogram
	errs     errorLog
	ops      int64
	bytes    int64
	canceled int64
	buf      []byte
}

func (p *phase) keyName(i int) string {
	return fmt.Sprintf("%s%v/%08d", p.cfg.Prefix, p.cfg.ObjectSize, i)
}

// run starts the workers, waits for all of them, and merges their tallies.
func (p *phase) run(ctx context.Context) PhaseResult {
	p.cfg.Logger.Info("phase start", "phase", p.name, "concurrency", p.cfg.Concurrency,
		"duration", p.cfg.Duration, "max_ops", p.cfg.MaxOps)
	workers := make([]worker, p.cfg.Concurrency)
	start := time.Now()
	p.deadline = start.Add(p.cfg.Duration)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { p.work(ctx, &workers[i]) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	r := PhaseResult{Op: p.name, Elapsed: elapsed}
	var hist Histogram
	var errs errorLog
	for i := range workers {
		w := &workers[i]
		hist.Merge(&w.hist)
		errs.merge(&w.errs)
		r.Ops += w.ops
		r.Bytes += w.bytes
		r.Canceled += w.canceled
	}
	r.ErrorKinds = errs.sorted()
	for _, k := range r.ErrorKinds {
		r.Errors += k.Count
	}
	r.Latency = hist.Summary()
	if s := elapsed.Seconds(); s > 0 {
		r.OpsPerSec = float64(r.Ops) / s
		r.MiBPerSec = float64(r.Bytes) / s / (1 << 20)
	}
	p.cfg.Logger.Info("phase end", "phase", p.name, "ops", r.Ops, "errors", r.Errors,
		"canceled", r.Canceled, "elapsed", elapsed)
	return r
}

// work runs operations until the deadline, MaxOps or ctx ends the phase.
// An operation that fails after ctx ended counts as canceled, not as an
// error.
func (p *phase) work(ctx context.Context, w *worker) {
	for ctx.Err() == nil && time.Now().Before(p.deadline) {
		n := p.next.Add(1) - 1
		if p.cfg.MaxOps > 0 && n >= p.cfg.MaxOps {
			return
		}
		idx := p.key(n)
		key := p.keyName(idx)
		t0 := time.Now()
		var bytes int64
		var err error
		if p.name == "put" {
			bytes, err = p.put(ctx, key)
		} else {
			bytes, err = p.get(ctx, w, key)
		}
		lat := time.Since(t0)
		switch {
		case err == nil:
			w.ops++
			w.bytes += bytes
			w.hist.Record(lat)
			if p.written != nil {
				p.written[idx/64].Or(1 << (idx % 64))
			}
		case ctx.Err() != nil:
			w.canceled++
		default:
			w.errs.add(err)
		}
	}
}

func (p *phase) put(ctx context.Context, key string) (int64, error) {
	size := int64(p.cfg.ObjectSize)
	in := &s3.PutObjectInput{
		Bucket:        aws.String(p.cfg.Bucket),
		Key:           aws.String(key),
		Body:          p.gen.Payload(key, size),
		ContentLength: aws.Int64(size),
	}
	var err error
	if p.cfg.multipart() {
		_, err = p.c.up.Upload(ctx, in)
	} else {
		_, err = p.c.s3.PutObject(ctx, in)
	}
	if err != nil {
		return 0, fmt.Errorf("put %q: %w", key, err)
	}
	return size, nil
}

func (p *phase) get(ctx context.Context, w *worker, key string) (int64, error) {
	size := int64(p.cfg.ObjectSize)
	out, err := p.c.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(p.cfg.Bucket),
		Key:    aws.String(key),
	})
	if err != nil {
		return 0, fmt.Errorf("get %q: %w", key, err)
	}
	defer out.Body.Close()
	if w.buf == nil {
		w.buf = make([]byte, getBufferBytes)
	}
	var v *Verifier
	if p.cfg.Verify {
		v = p.gen.Verifier(key, size)
	}
	var n int64
	for {
		m, rerr := out.Body.Read(w.buf)
		if m > 0 {
			n += int64(m)
			if v != nil {
				if _, err := v.Write(w.buf[:m]); err != nil {
					return n, fmt.Errorf("get %q: %w", key, err)
				}
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("get %q: reading body: %w", key, rerr)
		}
	}
	if n != size {
		return n, fmt.Errorf("get %q: %w: got %d bytes, want %d", key, ErrSize, n, size)
	}
	return n, nil
}
