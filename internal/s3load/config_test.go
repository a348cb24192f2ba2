package s3load

import (
	"errors"
	"testing"
	"time"
)

func validConfig() Config {
	cfg := DefaultConfig()
	cfg.AccessKey, cfg.SecretKey = "ak", "sk"
	return cfg
}

func TestValidateDefaults(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig with keys: %v", err)
	}
	// A zero field takes its default.
	if err := (Config{AccessKey: "ak", SecretKey: "sk"}).Validate(); err != nil {
		t.Errorf("zero Config with keys: %v", err)
	}
	if got := (Config{}).withDefaults(); got.Concurrency != 16 || got.ObjectSize != 4*MiB || got.Checksum != ChecksumWhenSupported {
		t.Errorf("withDefaults: %+v", got)
	}
}

func TestValidateEachProblem(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"no keys":            func(c *Config) { c.AccessKey, c.SecretKey = "", "" },
		"endpoint scheme":    func(c *Config) { c.Endpoint = "ftp://host" },
		"endpoint host":      func(c *Config) { c.Endpoint = "http://" },
		"endpoint syntax":    func(c *Config) { c.Endpoint = "http://a b:%zz" },
		"bucket upper":       func(c *Config) { c.Bucket = "Bench" },
		"bucket short":       func(c *Config) { c.Bucket = "ab" },
		"bucket dash":        func(c *Config) { c.Bucket = "-bench" },
		"op":                 func(c *Config) { c.Op = "delete" },
		"size negative":      func(c *Config) { c.ObjectSize = -1 },
		"size huge":          func(c *Config) { c.ObjectSize = 6 * TiB },
		"single put limit":   func(c *Config) { c.ObjectSize, c.MultipartThreshold = 6*GiB, 8*GiB },
		"too many parts":     func(c *Config) { c.ObjectSize, c.MultipartPartSize = 100*GiB, 5*MiB },
		"part small":         func(c *Config) { c.MultipartPartSize = 1 * MiB },
		"part large":         func(c *Config) { c.MultipartPartSize = 6 * GiB },
		"threshold negative": func(c *Config) { c.MultipartThreshold = -1 },
		"part concurrency":   func(c *Config) { c.MultipartConcurrency = -2 },
		"concurrency":        func(c *Config) { c.Concurrency = -1 },
		"duration":           func(c *Config) { c.Duration = -time.Second },
		"max ops":            func(c *Config) { c.MaxOps = -1 },
		"objects negative":   func(c *Config) { c.Objects = -1 },
		"objects huge":       func(c *Config) { c.Objects = MaxObjects + 1 },
		"checksum":           func(c *Config) { c.Checksum = "always" },
		"max attempts":       func(c *Config) { c.MaxAttempts = -1 },
		"disk size":          func(c *Config) { c.DiskSize = -1 },
		"ec data":            func(c *Config) { c.ECData = -4 },
		"ec parity negative": func(c *Config) { c.ECParity = -1 },
	} {
		cfg := validConfig()
		mutate(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v, want ErrInvalidConfig", name, err)
			continue
		}
		if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 1 {
			t.Errorf("%s: %d problems reported, want 1: %v", name, n, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Config{Endpoint: "ftp://x", Bucket: "B", Op: "nope", Concurrency: -1, Checksum: "x"}
	err := cfg.Validate()
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 6 {
		t.Errorf("%d problems, want 6 (keys, endpoint, bucket, op, concurrency, checksum):\n%v", n, err)
	}
}

func TestPoolSize(t *testing.T) {
	cfg := validConfig().withDefaults()
	cfg.Concurrency, cfg.MultipartConcurrency = 8, 3
	if cfg.poolSize() != 8 {
		t.Errorf("single PUTs: pool %d, want 8", cfg.poolSize())
	}
	cfg.ObjectSize = 1 * GiB
	if cfg.poolSize() != 24 {
		t.Errorf("multipart: pool %d, want 24", cfg.poolSize())
	}
}
