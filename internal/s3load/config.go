package s3load

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// ErrInvalidConfig classifies every problem Validate reports.
var ErrInvalidConfig = errors.New("s3load: invalid config")

// Op selects the phases of a run.
type Op string

// The operations. OpBoth runs a PUT phase, then a GET phase over the
// objects the PUT phase wrote.
const (
	OpPut  Op = "put"
	OpGet  Op = "get"
	OpBoth Op = "both"
)

// Checksum selects the SDK's request checksum calculation and response
// checksum validation together.
type Checksum string

// The checksum modes. when_supported, the default of the SDK's config
// loader, computes a CRC32 for every PUT and part and asks GETs for
// checksums to validate; when_required does so only for operations that
// demand one (PutObject and UploadPart do not).
const (
	ChecksumWhenSupported Checksum = "when_supported"
	ChecksumWhenRequired  Checksum = "when_required"
)

// S3 limits the configuration is checked against.
const (
	MinPartSize   = 5 * MiB
	MaxPartSize   = 5 * GiB
	MaxParts      = 10000
	MaxSinglePut  = 5 * GiB
	MaxObjectSize = 5 * TiB
	// MaxObjects bounds Config.Objects: key indexes have 8 digits, and a
	// PUT phase keeps a bitmap of the indexes it wrote.
	MaxObjects = 10_000_000
)

// Config configures a Run. Start from DefaultConfig; a zero field takes its
// default.
type Config struct {
	// Endpoint is the S3 endpoint URL, http or https, addressed path-style.
	// Default: http://127.0.0.1:9000.
	Endpoint string
	// AccessKey and SecretKey sign requests (SigV4). Required.
	AccessKey, SecretKey string
	// SessionToken goes with temporary credentials. Default: none.
	SessionToken string
	// Region is the signing region. Default: us-east-1.
	Region string
	// Bucket holds the objects; Run creates it if it is missing.
	// Default: s3bench.
	Bucket string
	// Prefix starts every key. A key is Prefix, the object size, "/" and an
	// 8-digit index: "s3load/4MiB/00000042". Default: "s3load/".
	Prefix string
	// Op selects the phases. Default: OpBoth.
	Op Op
	// ObjectSize is the size of every object. Default: 4 MiB.
	ObjectSize ByteSize
	// Concurrency is the number of workers, each with one operation in
	// flight; the connection pool is sized to match. Default: 16.
	Concurrency int
	// Duration bounds each phase: workers start no operation after it;
	// operations in flight complete and count. Default: 10s.
	Duration time.Duration
	// MaxOps, when positive, also ends a phase after that many operations
	// were started. Default: 0 (no limit).
	MaxOps int64
	// Objects caps the number of distinct keys. PUTs cycle through indexes
	// [0, Objects), overwriting; GETs read the keys the PUT phase wrote
	// (OpBoth) or indexes [0, Objects) (OpGet). Default: 1000.
	Objects int
	// Verify makes every GET check the body against the generated payload.
	// Default: false (the body is read and discarded).
	Verify bool
	// Seed selects the payloads; a GET run verifies objects written with
	// the same Seed. Default: 0.
	Seed int64
	// MultipartThreshold: objects larger than this are uploaded in parts
	// through the SDK's upload manager; others with one PutObject.
	// Default: 64 MiB.
	MultipartThreshold ByteSize
	// MultipartPartSize is the size of each part. Default: 16 MiB; between
	// MinPartSize and MaxPartSize.
	MultipartPartSize ByteSize
	// MultipartConcurrency is the number of parts in flight per upload.
	// Default: 4.
	MultipartConcurrency int
	// Checksum selects the SDK's checksum behaviour. Default:
	// ChecksumWhenSupported, what config.LoadDefaultConfig gives an SDK
	// user (a bare s3.New would behave as when_required).
	Checksum Checksum
	// UnsignedPayload sends PUT bodies as UNSIGNED-PAYLOAD instead of
	// hashing them with SHA-256 for the signature, which on plain HTTP costs
	// the client one more pass over every byte. Default: false.
	UnsignedPayload bool
	// MaxAttempts is the SDK's attempt limit per request; 1 means no
	// retries, so every failure is counted. Default: 1.
	MaxAttempts int
	// DiskDir, when set, makes Run first measure sequential write bandwidth
	// (DiskWriteBandwidth) in this directory, to compare PUT throughput
	// with. Default: "" (no disk measurement).
	DiskDir string
	// DiskSize is the number of bytes the disk measurement writes.
	// Default: 1 GiB.
	DiskSize ByteSize
	// ECData and ECParity are the target's erasure-coding profile, used
	// for the PUT target (PutTarget). Default: 4 and 2.
	ECData, ECParity int
	// Logger receives phase starts and ends and bucket creation.
	// Default: nil, silent.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every default filled in; AccessKey
// and SecretKey are left empty.
func DefaultConfig() Config {
	return Config{
		Endpoint:             "http://127.0.0.1:9000",
		Region:               "us-east-1",
		Bucket:               "s3bench",
		Prefix:               "s3load/",
		Op:                   OpBoth,
		ObjectSize:           4 * MiB,
		Concurrency:          16,
		Duration:             10 * time.Second,
		Objects:              1000,
		MultipartThreshold:   64 * MiB,
		MultipartPartSize:    16 * MiB,
		MultipartConcurrency: 4,
		Checksum:             ChecksumWhenSupported,
		MaxAttempts:          1,
		DiskSize:             1 * GiB,
		ECData:               4,
		ECParity:             2,
	}
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	def := func(v *string, dv string) {
		if *v == "" {
			*v = dv
		}
	}
	def(&c.Endpoint, d.Endpoint)
	def(&c.Region, d.Region)
	def(&c.Bucket, d.Bucket)
	def(&c.Prefix, d.Prefix)
	if c.Op == "" {
		c.Op = d.Op
	}
	if c.Checksum == "" {
		c.Checksum = d.Checksum
	}
	defInt := func(v *int, dv int) {
		if *v == 0 {
			*v = dv
		}
	}
	defInt(&c.Concurrency, d.Concurrency)
	defInt(&c.Objects, d.Objects)
	defInt(&c.MultipartConcurrency, d.MultipartConcurrency)
	defInt(&c.MaxAttempts, d.MaxAttempts)
	defInt(&c.ECData, d.ECData)
	defInt(&c.ECParity, d.ECParity)
	defSize := func(v *ByteSize, dv ByteSize) {
		if *v == 0 {
			*v = dv
		}
	}
	defSize(&c.ObjectSize, d.ObjectSize)
	defSize(&c.MultipartThreshold, d.MultipartThreshold)
	defSize(&c.MultipartPartSize, d.MultipartPartSize)
	defSize(&c.DiskSize, d.DiskSize)
	if c.Duration == 0 {
		c.Duration = d.Duration
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// multipart reports whether objects of this config go up in parts.
func (c Config) multipart() bool { return c.ObjectSize > c.MultipartThreshold }

// poolSize is the number of connections the workers can use at once.
func (c Config) poolSize() int {
	if c.multipart() {
		return c.Concurrency * c.MultipartConcurrency
	}
	return c.Concurrency
}

// Validate returns every problem of c at once (zero fields taking their
// defaults), each wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if u, err := url.Parse(c.Endpoint); err != nil {
		bad("endpoint %q: %v", c.Endpoint, err)
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("endpoint %q: want http://host:port or https://host:port", c.Endpoint)
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		bad("access key and secret key are required")
	}
	if err := checkBucketName(c.Bucket); err != "" {
		bad("bucket %q: %s", c.Bucket, err)
	}
	switch c.Op {
	case OpPut, OpGet, OpBoth:
	default:
		bad("op %q: want put, get or both", c.Op)
	}
	sizeOK := c.ObjectSize >= 0 && c.ObjectSize <= MaxObjectSize
	if !sizeOK {
		bad("object size %v: want 1 byte to %v", c.ObjectSize, MaxObjectSize)
	}
	if c.Concurrency < 1 {
		bad("concurrency %d: want at least 1", c.Concurrency)
	}
	if c.Duration < 0 {
		bad("duration %v is negative", c.Duration)
	}
	if c.MaxOps < 0 {
		bad("max ops %d is negative", c.MaxOps)
	}
	if c.Objects < 1 || c.Objects > MaxObjects {
		bad("objects %d: want 1 to %d", c.Objects, MaxObjects)
	}
	if c.MultipartThreshold < 0 {
		bad("multipart threshold %v is negative", c.MultipartThreshold)
	}
	if c.MultipartPartSize < MinPartSize || c.MultipartPartSize > MaxPartSize {
		bad("multipart part size %v: want %v to %v", c.MultipartPartSize, MinPartSize, MaxPartSize)
	} else if sizeOK && c.multipart() && (c.ObjectSize+c.MultipartPartSize-1)/c.MultipartPartSize > MaxParts {
		bad("object size %v in parts of %v needs more than %d parts", c.ObjectSize, c.MultipartPartSize, MaxParts)
	}
	if sizeOK && !c.multipart() && c.ObjectSize > MaxSinglePut {
		bad("object size %v is above the single-PUT limit %v: lower the multipart threshold", c.ObjectSize, MaxSinglePut)
	}
	if c.MultipartConcurrency < 1 {
		bad("multipart concurrency %d: want at least 1", c.MultipartConcurrency)
	}
	switch c.Checksum {
	case ChecksumWhenSupported, ChecksumWhenRequired:
	default:
		bad("checksum %q: want when_supported or when_required", c.Checksum)
	}
	if c.MaxAttempts < 1 {
		bad("max attempts %d: want at least 1", c.MaxAttempts)
	}
	if c.DiskSize < 0 {
		bad("disk size %v is negative", c.DiskSize)
	}
	if c.ECData < 1 || c.ECParity < 0 {
		bad("EC profile %d+%d: want at least one data shard and no negative parity", c.ECData, c.ECParity)
	}
	return errors.Join(errs...)
}

// checkBucketName applies S3's naming rules; it returns "" or the problem.
func checkBucketName(b string) string {
	if len(b) < 3 || len(b) > 63 {
		return "want 3 to 63 characters"
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "want lower-case letters, digits, '-' and '.'"
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return "must start and end with a letter or digit"
	}
	return ""
}
