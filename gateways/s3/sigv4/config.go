package sigv4

import (
	"errors"
	"fmt"
	"time"
)

// Limits the configuration may not exceed.
const (
	// MaxPresignExpiryLimit is the longest validity S3 allows a presigned
	// URL: seven days.
	MaxPresignExpiryLimit = 7 * 24 * time.Hour
	// MaxChunkSizeLimit is the largest MaxChunkSize a Config may set.
	MaxChunkSizeLimit = 256 << 20
)

// LookupFunc resolves an access key to its secret and to the principal the
// gateway authorizes as. It returns s3err.ErrInvalidAccessKeyID when the key
// is unknown or disabled. Any other error that is not an *s3err.Error is
// reported to the client as InternalError (and kept, wrapped, for logs);
// so is an empty secret, which would make signatures forgeable. Lookup is
// called once per signed request, after the cheap checks, and must be safe
// for concurrent use.
type LookupFunc func(accessKey string) (secret, principal string, err error)

// Config configures a Verifier. Start from DefaultConfig and set Lookup.
type Config struct {
	// Region is the region this gateway serves, used in messages and, when
	// StrictRegion is set, the only region a credential scope may name.
	// Default: "us-east-1".
	Region string

	// StrictRegion rejects requests whose credential scope names a region
	// other than Region (AuthorizationHeaderMalformed, as S3 answers a
	// request signed for the wrong region). When false, any region string
	// in the scope is accepted and the signature is verified with the
	// region the client used: s3cmd, rclone and most SDK set-ups sign for
	// "us-east-1" whatever the endpoint, and after a failover the DR site
	// keeps accepting URLs presigned for the primary's region. The region
	// is only an input to the key derivation, so accepting any region does
	// not weaken the signature; it does mean a request signed for one
	// ferry site verifies at every site that shares the credentials.
	// Default: false.
	StrictRegion bool

	// Service is the service name a credential scope must carry.
	// Default: "s3".
	Service string

	// MaxSkew is how far a header-signed request's timestamp may be from
	// Now in either direction (RequestTimeTooSkewed beyond it), and how far
	// in the future a presigned URL's X-Amz-Date may be.
	// Default: 15 minutes (S3's value).
	MaxSkew time.Duration

	// MaxPresignExpiry is the largest X-Amz-Expires accepted on a
	// presigned URL; larger values are rejected with
	// AuthorizationQueryParametersError. At most MaxPresignExpiryLimit.
	// Default: 7 days.
	MaxPresignExpiry time.Duration

	// MaxChunkSize is the largest aws-chunked chunk accepted, in bytes.
	// A signed chunk is held in memory until its signature is verified,
	// so this bounds the decoder's memory per request. SDKs send 64 KiB
	// to 1 MiB chunks. At most MaxChunkSizeLimit.
	// Default: 16 MiB.
	MaxChunkSize int64

	// Lookup resolves access keys. Required.
	Lookup LookupFunc

	// Now returns the current time; nil means time.Now. Tests pass a
	// fake clock.
	Now func() time.Time
}

// DefaultConfig returns a Config with every default set and Lookup nil.
func DefaultConfig() Config {
	return Config{
		Region:           "us-east-1",
		Service:          "s3",
		MaxSkew:          15 * time.Minute,
		MaxPresignExpiry: MaxPresignExpiryLimit,
		MaxChunkSize:     16 << 20,
	}
}

// Validate reports every problem with c, joined, or nil.
func (c Config) Validate() error {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("sigv4: Region is empty"))
	} else if !validScopeComponent(c.Region) {
		errs = append(errs, fmt.Errorf("sigv4: Region %q has characters a credential scope cannot carry", c.Region))
	}
	if c.Service == "" {
		errs = append(errs, errors.New("sigv4: Service is empty"))
	} else if !validScopeComponent(c.Service) {
		errs = append(errs, fmt.Errorf("sigv4: Service %q has characters a credential scope cannot carry", c.Service))
	}
	if c.MaxSkew <= 0 {
		errs = append(errs, fmt.Errorf("sigv4: MaxSkew %v must be positive", c.MaxSkew))
	}
	if c.MaxPresignExpiry < time.Second || c.MaxPresignExpiry > MaxPresignExpiryLimit {
		errs = append(errs, fmt.Errorf("sigv4: MaxPresignExpiry %v must be between 1s and %v", c.MaxPresignExpiry, MaxPresignExpiryLimit))
	}
	if c.MaxChunkSize <= 0 || c.MaxChunkSize > MaxChunkSizeLimit {
		errs = append(errs, fmt.Errorf("sigv4: MaxChunkSize %d must be between 1 and %d bytes", c.MaxChunkSize, MaxChunkSizeLimit))
	}
	if c.Lookup == nil {
		errs = append(errs, errors.New("sigv4: Lookup is nil"))
	}
	return errors.Join(errs...)
}

// validScopeComponent reports whether s can be one '/'-separated component
// of a credential scope: printable ASCII, no '/' and no space.
func validScopeComponent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '/' {
			return false
		}
	}
	return s != ""
}
