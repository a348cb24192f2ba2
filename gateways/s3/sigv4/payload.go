package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// payloadMode is how the body is covered, from x-amz-content-sha256.
type payloadMode int

const (
	payloadAbsent           payloadMode = iota // no x-amz-content-sha256 (anonymous only)
	payloadHash                                // hex SHA-256 of the body
	payloadUnsigned                            // UNSIGNED-PAYLOAD
	payloadStreaming                           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	payloadStreamingTrailer                    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
	payloadUnsignedTrailer                     // STREAMING-UNSIGNED-PAYLOAD-TRAILER
)

func (m payloadMode) chunked() bool {
	return m == payloadStreaming || m == payloadStreamingTrailer || m == payloadUnsignedTrailer
}

func (m payloadMode) signedChunks() bool {
	return m == payloadStreaming || m == payloadStreamingTrailer
}

func (m payloadMode) trailer() bool {
	return m == payloadStreamingTrailer || m == payloadUnsignedTrailer
}

// parsePayloadMode classifies an x-amz-content-sha256 value. For a hex
// value it returns the decoded digest.
func parsePayloadMode(v string) (payloadMode, []byte, error) {
	switch v {
	case UnsignedPayload:
		return payloadUnsigned, nil, nil
	case StreamingPayload:
		return payloadStreaming, nil, nil
	case StreamingPayloadTrailer:
		return payloadStreamingTrailer, nil, nil
	case StreamingUnsignedPayloadTrailer:
		return payloadUnsignedTrailer, nil, nil
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return 0, nil, s3err.ErrUnsupportedSignature
	}
	if len(v) == 64 {
		if sum, err := hex.DecodeString(v); err == nil {
			return payloadHash, sum, nil
		}
	}
	return 0, nil, s3err.ErrInvalidArgument.With("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
}

// bodyError classifies an error from the request body: a body cut short
// (io.ErrUnexpectedEOF from net/http) is IncompleteBody; anything else
// (client gone, http.MaxBytesError, ...) is returned unchanged so the
// gateway can tell a transport failure from a rejection.
func bodyError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return s3err.ErrIncompleteBody.Wrap(err)
	}
	return err
}

// plainBody passes the request body through, classifying its errors.
type plainBody struct {
	rc  io.ReadCloser
	err error
}

func (b *plainBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	if err != nil {
		if err != io.EOF {
			err = bodyError(err)
		}
		b.err = err
	}
	return n, err
}

func (b *plainBody) Close() error { return b.rc.Close() }

// hashedBody hashes the body as it streams and, at EOF, compares the
// digest with x-amz-content-sha256. io.EOF is returned only when they
// match; otherwise the read that reaches the end returns
// ErrXAmzContentSHA256Mismatch.
type hashedBody struct {
	rc   io.ReadCloser
	want []byte
	h    hash.Hash
	err  error
}

func newHashedBody(rc io.ReadCloser, want []byte) *hashedBody {
	return &hashedBody{rc: rc, want: want, h: sha256.New()}
}

func (b *hashedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.h.Write(p[:n])
	switch {
	case err == io.EOF:
		if !bytes.Equal(b.h.Sum(nil), b.want) {
			err = s3err.ErrXAmzContentSHA256Mismatch
		}
		b.err = err
	case err != nil:
		err = bodyError(err)
		b.err = err
	}
	return n, err
}

func (b *hashedBody) Close() error { return b.rc.Close() }

// stripAWSChunked removes the aws-chunked coding from Content-Encoding
// values and returns the remaining codings joined by ",". S3 stores the
// object's Content-Encoding without it.
func stripAWSChunked(vals []string) string {
	var keep []string
	for _, v := range vals {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" || strings.EqualFold(tok, "aws-chunked") {
				continue
			}
			keep = append(keep, tok)
		}
	}
	return strings.Join(keep, ",")
}

// singleHeader returns the one value of header name. ok is false when it
// is absent; err is set when it is sent more than once.
func singleHeader(h http.Header, name string) (v string, ok bool, err error) {
	vals, ok := h[name]
	if !ok {
		return "", false, nil
	}
	if len(vals) != 1 {
		return "", true, s3err.ErrInvalidRequest.With("The header %s may be sent only once.", strings.ToLower(name))
	}
	return vals[0], true, nil
}

// parseTrailerNames reads x-amz-trailer: a comma-separated list of the
// trailing headers the aws-chunked body ends with. ferry accepts checksum
// trailers only, at most one.
func parseTrailerNames(h http.Header) ([]string, ChecksumAlgorithm, error) {
	var names []string
	var alg ChecksumAlgorithm
	for _, v := range h["X-Amz-Trailer"] {
		for _, n := range strings.Split(v, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				continue
			}
			a, ok := algorithmForHeader(n)
			if !ok {
				return nil, "", s3err.ErrInvalidRequest.With("The trailing header %s is not supported; only x-amz-checksum-* trailers are.", quoteShort(n))
			}
			if alg != "" {
				return nil, "", s3err.ErrInvalidRequest.With("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
			}
			alg = a
			names = append(names, n)
		}
	}
	return names, alg, nil
}
