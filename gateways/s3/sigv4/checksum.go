package sigv4

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/klauspost/crc32"
	"github.com/minio/crc64nvme"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// ChecksumAlgorithm names an S3 additional checksum, spelled as in
// x-amz-sdk-checksum-algorithm.
type ChecksumAlgorithm string

// The S3 checksum algorithms.
const (
	ChecksumCRC32     ChecksumAlgorithm = "CRC32"
	ChecksumCRC32C    ChecksumAlgorithm = "CRC32C"
	ChecksumCRC64NVME ChecksumAlgorithm = "CRC64NVME"
	ChecksumSHA1      ChecksumAlgorithm = "SHA1"
	ChecksumSHA256    ChecksumAlgorithm = "SHA256"
)

var checksumAlgorithms = [...]ChecksumAlgorithm{ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256}

// ChecksumAlgorithms returns every supported algorithm.
func ChecksumAlgorithms() []ChecksumAlgorithm { return slices.Clone(checksumAlgorithms[:]) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ParseChecksumAlgorithm parses an algorithm name, ignoring case.
func ParseChecksumAlgorithm(s string) (ChecksumAlgorithm, bool) {
	for _, a := range checksumAlgorithms {
		if strings.EqualFold(s, string(a)) {
			return a, true
		}
	}
	return "", false
}

// HeaderName returns the header carrying the checksum, e.g.
// "x-amz-checksum-crc32c".
func (a ChecksumAlgorithm) HeaderName() string {
	return "x-amz-checksum-" + strings.ToLower(string(a))
}

// Size returns the digest length in bytes, or 0 for an unknown algorithm.
func (a ChecksumAlgorithm) Size() int {
	switch a {
	case ChecksumCRC32, ChecksumCRC32C:
		return 4
	case ChecksumCRC64NVME:
		return 8
	case ChecksumSHA1:
		return sha1.Size
	case ChecksumSHA256:
		return sha256.Size
	}
	return 0
}

// NewHash returns a fresh hash for a, or nil for an unknown algorithm.
// Sum yields the big-endian digest S3 base64-encodes.
func (a ChecksumAlgorithm) NewHash() hash.Hash {
	switch a {
	case ChecksumCRC32:
		return crc32.NewIEEE()
	case ChecksumCRC32C:
		return crc32.New(castagnoli)
	case ChecksumCRC64NVME:
		return crc64nvme.New()
	case ChecksumSHA1:
		return sha1.New()
	case ChecksumSHA256:
		return sha256.New()
	}
	return nil
}

// algorithmForHeader maps "x-amz-checksum-crc32" (any case) to its
// algorithm.
func algorithmForHeader(name string) (ChecksumAlgorithm, bool) {
	suffix, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-checksum-")
	if !ok {
		return "", false
	}
	for _, a := range checksumAlgorithms {
		if suffix == strings.ToLower(string(a)) {
			return a, true
		}
	}
	return "", false
}

// decodeChecksum decodes a base64 checksum value of algorithm a.
func decodeChecksum(a ChecksumAlgorithm, v string) ([]byte, bool) {
	b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) != a.Size() {
		return nil, false
	}
	return b, true
}

func invalidChecksumValue(a ChecksumAlgorithm, where string) *s3err.Error {
	return s3err.ErrInvalidRequest.With("Value for %s %s is invalid.", a.HeaderName(), where)
}

func checksumMismatch(a ChecksumAlgorithm) *s3err.Error {
	return s3err.ErrXAmzContentChecksumMismatch.With("The %s you specified did not match the calculated checksum.", a.HeaderName())
}

// ChecksumSpec is what a request asks the gateway to verify about the
// object bytes, independent of the signature.
type ChecksumSpec struct {
	// ContentMD5 is the digest from Content-MD5, nil when absent.
	ContentMD5 []byte
	// Algorithm is the additional checksum requested (by an
	// x-amz-checksum-* header, x-amz-sdk-checksum-algorithm or an
	// x-amz-trailer naming a checksum), "" when none.
	Algorithm ChecksumAlgorithm
	// Expected is the decoded x-amz-checksum-* header value, nil when the
	// value is not known before the body: it arrives in the aws-chunked
	// trailer (InTrailer, verified by the Result.Body decoder) or the
	// client only named the algorithm.
	Expected []byte
	// InTrailer is set when the checksum value arrives as a trailing
	// header of an aws-chunked body.
	InTrailer bool
}

// ParseChecksumHeaders reads Content-MD5, x-amz-checksum-{crc32, crc32c,
// crc64nvme, sha1, sha256}, x-amz-sdk-checksum-algorithm and x-amz-trailer.
//
// Errors: a Content-MD5 that is not base64 of 16 bytes (or is sent twice)
// is ErrInvalidDigest; a checksum value that does not decode to the
// algorithm's size, more than one checksum algorithm, or an
// x-amz-sdk-checksum-algorithm that is unknown or disagrees with the
// checksum sent is ErrInvalidRequest, as S3 answers.
func ParseChecksumHeaders(h http.Header) (ChecksumSpec, error) {
	var spec ChecksumSpec
	if vals, ok := h["Content-Md5"]; ok {
		if len(vals) != 1 {
			return ChecksumSpec{}, s3err.ErrInvalidDigest.With("The Content-MD5 you specified is not valid.")
		}
		b, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(vals[0]))
		if err != nil || len(b) != md5.Size {
			return ChecksumSpec{}, s3err.ErrInvalidDigest.With("The Content-MD5 you specified is not valid.")
		}
		spec.ContentMD5 = b
	}
	multiple := s3err.ErrInvalidRequest.With("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	for _, a := range checksumAlgorithms {
		vals, ok := h[http.CanonicalHeaderKey(a.HeaderName())]
		if !ok {
			continue
		}
		if spec.Algorithm != "" || len(vals) != 1 {
			return ChecksumSpec{}, multiple
		}
		b, ok := decodeChecksum(a, vals[0])
		if !ok {
			return ChecksumSpec{}, invalidChecksumValue(a, "header")
		}
		spec.Algorithm, spec.Expected = a, b
	}
	_, trailerAlg, err := parseTrailerNames(h)
	if err != nil {
		return ChecksumSpec{}, err
	}
	if trailerAlg != "" {
		if spec.Algorithm != "" {
			return ChecksumSpec{}, multiple
		}
		spec.Algorithm, spec.InTrailer = trailerAlg, true
	}
	if vals, ok := h["X-Amz-Sdk-Checksum-Algorithm"]; ok {
		a, known := ChecksumAlgorithm(""), false
		if len(vals) == 1 {
			a, known = ParseChecksumAlgorithm(strings.TrimSpace(vals[0]))
		}
		switch {
		case !known:
			return ChecksumSpec{}, s3err.ErrInvalidRequest.With("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		case spec.Algorithm == "":
			spec.Algorithm = a
		case spec.Algorithm != a:
			return ChecksumSpec{}, s3err.ErrInvalidRequest.With("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
	}
	return spec, nil
}

// ChecksumReader computes digests of a stream as it is read and checks
// them against a ChecksumSpec when the stream ends. It always computes MD5
// (the ETag of a single-part object) and the spec's algorithm, plus any
// extra algorithms asked for.
//
// The read that reaches the end of the stream returns io.EOF only when
// every expected value matched; otherwise it returns ErrBadDigest
// (Content-MD5) or ErrXAmzContentChecksumMismatch (x-amz-checksum-*), and
// every later read returns the same error. Bytes have reached the caller
// by then: stage them and commit only after io.EOF.
//
// A ChecksumReader is not safe for concurrent use; read the sums after
// Read returned io.EOF.
type ChecksumReader struct {
	r      io.Reader
	spec   ChecksumSpec
	md5    hash.Hash
	hashes map[ChecksumAlgorithm]hash.Hash
	w      io.Writer
	n      int64
	err    error
	done   bool
}

// NewChecksumReader wraps r. Typically r is Result.Body and spec comes
// from ParseChecksumHeaders on the same request.
func NewChecksumReader(r io.Reader, spec ChecksumSpec, extra ...ChecksumAlgorithm) *ChecksumReader {
	c := &ChecksumReader{r: r, spec: spec, md5: md5.New(), hashes: map[ChecksumAlgorithm]hash.Hash{}}
	writers := []io.Writer{c.md5}
	for _, a := range append([]ChecksumAlgorithm{spec.Algorithm}, extra...) {
		if _, dup := c.hashes[a]; dup {
			continue
		}
		if h := a.NewHash(); h != nil {
			c.hashes[a] = h
			writers = append(writers, h)
		}
	}
	c.w = io.MultiWriter(writers...)
	return c
}

// Read implements io.Reader.
func (c *ChecksumReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.w.Write(p[:n]) // hash writers never fail
	if err == io.EOF {
		if verr := c.verify(); verr != nil {
			err = verr
		} else {
			c.done = true
		}
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *ChecksumReader) verify() error {
	if c.spec.ContentMD5 != nil && !bytes.Equal(c.md5.Sum(nil), c.spec.ContentMD5) {
		return s3err.ErrBadDigest
	}
	if c.spec.Expected != nil {
		h := c.hashes[c.spec.Algorithm]
		if h == nil || !bytes.Equal(h.Sum(nil), c.spec.Expected) {
			return checksumMismatch(c.spec.Algorithm)
		}
	}
	return nil
}

// Done reports whether the stream was read to its end and verified.
func (c *ChecksumReader) Done() bool { return c.done }

// Size returns the number of bytes read so far.
func (c *ChecksumReader) Size() int64 { return c.n }

// MD5 returns the MD5 of the bytes read so far (the whole body after
// io.EOF).
func (c *ChecksumReader) MD5() []byte { return c.md5.Sum(nil) }

// Checksum returns the base64 digest of algorithm a over the bytes read so
// far, as S3 returns it in x-amz-checksum-*; ok is false when a was not
// computed.
func (c *ChecksumReader) Checksum(a ChecksumAlgorithm) (string, bool) {
	h, ok := c.hashes[a]
	if !ok {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}
