package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Framing limits of the aws-chunked decoder.
const (
	// maxLineBytes bounds one chunk-header or trailer line. A signed chunk
	// header is at most 16+17+64+2 bytes.
	maxLineBytes = 4096
	// maxTrailerBytes bounds the whole trailer section.
	maxTrailerBytes = 16 << 10
	// maxHexDigits bounds the chunk-size field.
	maxHexDigits = 16
	// trailerSignatureName is the trailing header carrying the trailer
	// chunk's signature.
	trailerSignatureName = "x-amz-trailer-signature"
)

// chunkSigner computes the chained signatures of a streaming upload: each
// chunk's signature covers the previous one, starting from the seed (the
// request signature).
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string
}

// next returns the signature of a chunk whose data hashes to dataHash.
func (s *chunkSigner) next(dataHash []byte) string {
	sts := chunkAlgorithm + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(dataHash)
	return signatureHex(s.key, sts)
}

// trailer returns the signature of the trailer chunk whose canonical form
// hashes to trailerHash.
func (s *chunkSigner) trailer(trailerHash []byte) string {
	sts := trailerAlgorithm + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + hex.EncodeToString(trailerHash)
	return signatureHex(s.key, sts)
}

// chunkedOptions configure a chunkedReader.
type chunkedOptions struct {
	// signer is nil for STREAMING-UNSIGNED-PAYLOAD-TRAILER.
	signer *chunkSigner
	// trailer allows trailing headers (the -TRAILER modes).
	trailer bool
	// trailerNames are the trailing headers x-amz-trailer declared; each
	// must arrive, no other may.
	trailerNames []string
	// checksum is the algorithm of the declared checksum trailer, "" if none.
	checksum ChecksumAlgorithm
	// declared is x-amz-decoded-content-length, -1 when not sent.
	declared int64
	// maxChunk bounds a chunk's data size.
	maxChunk int64
}

// chunkedReader decodes an aws-chunked body:
//
//	<hex size>;chunk-signature=<sig>\r\n<data>\r\n     (signed modes)
//	<hex size>\r\n<data>\r\n                            (unsigned mode)
//	... a final chunk of size 0, then, in the -TRAILER modes,
//	<name>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n] \r\n
//
// In the signed modes a chunk is read whole into a buffer, its signature
// checked, and only then released to the caller, so no unverified byte
// ever reaches the caller; memory is one chunk (at most maxChunk) plus a
// 4 KiB line buffer. In the unsigned mode data streams straight through
// and the trailing checksum is checked at the end. Errors are sticky.
type chunkedReader struct {
	src    *bufio.Reader
	closer io.Closer
	opt    chunkedOptions

	buf       []byte // the current verified chunk (signed modes)
	pending   []byte // the part of buf not yet returned
	remaining int64  // data bytes left in the current chunk (unsigned mode)
	decoded   int64  // data bytes decoded so far
	sha       hash.Hash
	sum       hash.Hash // checksum of the decoded data, nil if no checksum trailer
	err       error

	trailer atomic.Pointer[http.Header]
}

func newChunkedReader(body io.ReadCloser, opt chunkedOptions) *chunkedReader {
	c := &chunkedReader{
		src:    bufio.NewReaderSize(body, maxLineBytes),
		closer: body,
		opt:    opt,
		sha:    sha256.New(),
	}
	if opt.checksum != "" {
		c.sum = opt.checksum.NewHash()
	}
	return c
}

// Trailer returns the verified trailing headers once Read has returned
// io.EOF, nil before.
func (c *chunkedReader) Trailer() http.Header {
	if h := c.trailer.Load(); h != nil {
		return h.Clone()
	}
	return nil
}

func (c *chunkedReader) Close() error { return c.closer.Close() }

func malformedChunk(reason string) *s3err.Error {
	return s3err.ErrInvalidRequest.With("Malformed aws-chunked encoding: %s.", reason)
}

func incomplete(reason string) *s3err.Error {
	return s3err.ErrIncompleteBody.With("%s", reason)
}

// srcErr classifies an error from the underlying body met inside the
// framing: EOF there means the body was cut short.
func srcErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return s3err.ErrIncompleteBody.Wrap(err).With("The aws-chunked body ended before its final chunk.")
	}
	return err
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.remaining > 0 { // unsigned mode: stream the chunk's data
			want := min(int64(len(p)), c.remaining)
			n, err := c.src.Read(p[:want])
			if n > 0 {
				c.remaining -= int64(n)
				c.decoded += int64(n)
				if c.sum != nil {
					c.sum.Write(p[:n])
				}
				if c.remaining == 0 {
					if err := c.readCRLF(); err != nil {
						c.err = err // reported on the next call
					}
				}
				return n, nil
			}
			if err == nil {
				continue
			}
			c.err = srcErr(err)
			return 0, c.err
		}
		if err := c.nextChunk(); err != nil {
			c.err = err
			c.pending = nil
			return 0, err
		}
		if len(c.pending) > 0 {
			n := copy(p, c.pending)
			c.pending = c.pending[n:]
			return n, nil
		}
	}
}

// nextChunk reads one chunk header. In the signed modes it also reads,
// verifies and stages the chunk's data in pending; in the unsigned mode it
// sets remaining. On the final chunk it reads the trailer section, runs
// the end-of-body checks and returns io.EOF when they pass.
func (c *chunkedReader) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if !bytes.HasSuffix(line, []byte("\r\n")) {
		return malformedChunk("a chunk header does not end in CRLF")
	}
	line = line[:len(line)-2]
	sizeField, ext, hasExt := bytes.Cut(line, []byte(";"))
	size, ok := parseHexSize(sizeField)
	if !ok {
		return malformedChunk("invalid chunk size")
	}
	if size > uint64(c.opt.maxChunk) {
		return s3err.ErrInvalidRequest.With("An aws-chunked chunk of %d bytes exceeds the limit of %d bytes.", size, c.opt.maxChunk)
	}
	var sig string
	if c.opt.signer != nil {
		const prefix = "chunk-signature="
		if !hasExt || !bytes.HasPrefix(ext, []byte(prefix)) || !isLowerHex(string(ext[len(prefix):]), 64) {
			return malformedChunk("a chunk header lacks a valid chunk-signature")
		}
		sig = string(ext[len(prefix):])
	}
	if c.opt.declared >= 0 && c.decoded+int64(size) > c.opt.declared {
		return incomplete("The decoded body is longer than x-amz-decoded-content-length.")
	}
	if c.opt.signer == nil {
		if size == 0 {
			return c.finish()
		}
		c.remaining = int64(size)
		return nil
	}
	data, err := c.readData(int(size))
	if err != nil {
		return err
	}
	if size > 0 {
		if err := c.readCRLF(); err != nil {
			return err
		}
	}
	c.sha.Reset()
	c.sha.Write(data)
	want := c.opt.signer.next(c.sha.Sum(nil))
	if !signaturesEqual(want, sig) {
		return s3err.ErrSignatureDoesNotMatch.With("The chunk signature we calculated does not match the signature you provided.")
	}
	c.opt.signer.prev = want
	if size == 0 {
		return c.finish()
	}
	c.decoded += int64(size)
	if c.sum != nil {
		c.sum.Write(data)
	}
	c.pending = data
	return nil
}

// initialChunkBuffer is the first allocation for a chunk whose size is
// not yet covered by the buffer; 64 KiB is the chunk size most SDKs use.
const initialChunkBuffer = 64 << 10

// readData reads a signed chunk's size bytes of data into c.buf. The
// buffer grows (doubling, from 64 KiB) only as bytes actually arrive, so a
// header that announces a large chunk and then stalls or ends costs no
// more memory than the bytes sent. REQUIRES: size <= opt.maxChunk.
func (c *chunkedReader) readData(size int) ([]byte, error) {
	data := c.buf[:0]
	for len(data) < size {
		if len(data) == cap(data) {
			grown := make([]byte, len(data), min(size, max(2*cap(data), initialChunkBuffer)))
			copy(grown, data)
			data = grown
			c.buf = grown
		}
		n, err := c.src.Read(data[len(data):min(cap(data), size)])
		data = data[:len(data)+n]
		if err != nil && len(data) < size {
			return nil, srcErr(err)
		}
	}
	return data, nil
}

// readLine reads one line including its '\n', at most maxLineBytes long.
// The slice is valid until the next read.
func (c *chunkedReader) readLine() ([]byte, error) {
	line, err := c.src.ReadSlice('\n')
	switch {
	case err == nil:
		return line, nil
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, malformedChunk("a line exceeds 4096 bytes")
	default:
		return nil, srcErr(err)
	}
}

func (c *chunkedReader) readCRLF() error {
	var b [2]byte
	if _, err := io.ReadFull(c.src, b[:]); err != nil {
		return srcErr(err)
	}
	if b != [2]byte{'\r', '\n'} {
		return malformedChunk("chunk data is not followed by CRLF")
	}
	return nil
}

// parseHexSize parses 1 to 16 hex digits.
func parseHexSize(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > maxHexDigits {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

type trailerLine struct{ name, value string }

// finish runs after the final (zero-size) chunk: it checks the decoded
// length, reads the trailer section to the end of the body, verifies the
// trailer signature and the trailing checksum, publishes the trailer and
// returns io.EOF.
//
// The trailer section is read line by line until the body ends; blank
// lines are skipped (minio-go writes "name:value\n\r\n" before the
// signature line, the AWS SDKs "name:value\r\n"), so both layouts decode.
// It is bounded by maxTrailerBytes.
func (c *chunkedReader) finish() error {
	if c.opt.declared >= 0 && c.decoded != c.opt.declared {
		return incomplete("The decoded body is shorter than x-amz-decoded-content-length.")
	}
	var (
		lines  []trailerLine
		sig    string
		sawSig bool
		total  int
	)
	for {
		line, err := c.src.ReadSlice('\n')
		total += len(line)
		if total > maxTrailerBytes {
			return malformedChunk("the trailer section is too large")
		}
		if err == io.EOF {
			if len(line) != 0 {
				return incomplete("The aws-chunked trailer section ends inside a line.")
			}
			break
		}
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return malformedChunk("a trailer line exceeds 4096 bytes")
			}
			return srcErr(err)
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		if s == "" {
			continue
		}
		if sawSig {
			return malformedChunk("data follows the trailer signature")
		}
		name, value, ok := strings.Cut(s, ":")
		if !ok {
			return malformedChunk("a trailer line is not name:value")
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == trailerSignatureName {
			if c.opt.signer == nil || !c.opt.trailer {
				return malformedChunk("unexpected x-amz-trailer-signature")
			}
			if !isLowerHex(value, 64) {
				return malformedChunk("invalid x-amz-trailer-signature")
			}
			sig, sawSig = value, true
			continue
		}
		if !c.opt.trailer {
			return malformedChunk("trailing headers are not allowed with this x-amz-content-sha256")
		}
		declared := false
		for _, n := range c.opt.trailerNames {
			declared = declared || n == name
		}
		if !declared {
			return s3err.ErrInvalidRequest.With("The trailing header %s was not declared in x-amz-trailer.", quoteShort(name))
		}
		for _, l := range lines {
			if l.name == name {
				return malformedChunk("a trailing header appears twice")
			}
		}
		lines = append(lines, trailerLine{name, value})
	}

	if c.opt.signer != nil && c.opt.trailer {
		if !sawSig {
			return s3err.ErrSignatureDoesNotMatch.With("The aws-chunked trailer carries no x-amz-trailer-signature.")
		}
		var canon strings.Builder
		for _, l := range lines {
			canon.WriteString(l.name)
			canon.WriteByte(':')
			canon.WriteString(l.value)
			canon.WriteByte('\n')
		}
		h := sha256.Sum256([]byte(canon.String()))
		want := c.opt.signer.trailer(h[:])
		if !signaturesEqual(want, sig) {
			return s3err.ErrSignatureDoesNotMatch.With("The trailer signature we calculated does not match the signature you provided.")
		}
		c.opt.signer.prev = want
	}
	if len(lines) != len(c.opt.trailerNames) {
		return s3err.ErrInvalidRequest.With("The aws-chunked body lacks a trailing header declared in x-amz-trailer.")
	}
	th := make(http.Header, len(lines))
	for _, l := range lines {
		if a, ok := algorithmForHeader(l.name); ok && a == c.opt.checksum {
			want, ok := decodeChecksum(a, l.value)
			if !ok {
				return invalidChecksumValue(a, "trailing header")
			}
			if !bytes.Equal(c.sum.Sum(nil), want) {
				return checksumMismatch(a)
			}
		}
		th.Set(l.name, l.value)
	}
	c.trailer.Store(&th)
	return io.EOF
}
