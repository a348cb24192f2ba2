package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// These tests sign with minio-go's pkg/signer: SignV4, PreSignV4,
// StreamingSignV4 (with and without a signed trailer) and the unsigned
// trailer encoder, and verify over a real HTTP connection.

// stdHasher adapts a hash.Hash to the md5simd.Hasher minio-go expects.
type stdHasher struct{ hash.Hash }

func (stdHasher) Close() {}

// checksumB64 is the base64 digest of data under a, as a trailer carries it.
func checksumB64(a ChecksumAlgorithm, data []byte) string {
	h := a.NewHash()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// minioStreaming returns a PUT signed with minio-go's StreamingSignV4 at
// testTime. With alg set, the upload ends in a signed checksum trailer
// whose value is value (the correct checksum when value is "").
func minioStreaming(t testing.TB, u string, data []byte, alg ChecksumAlgorithm, value string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if alg != "" {
		if value == "" {
			value = checksumB64(alg, data)
		}
		req.Trailer = http.Header{http.CanonicalHeaderKey(alg.HeaderName()): {value}}
	}
	return signer.StreamingSignV4(req, testAK, testSecret, "", "us-east-1", int64(len(data)), testTime, stdHasher{sha256.New()})
}

// wire reads the encoded body of a signed request and returns a function
// that makes copies of the request with any body.
func wire(t testing.TB, req *http.Request) ([]byte, func(body []byte) *http.Request) {
	t.Helper()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, func(body []byte) *http.Request {
		r, err := http.NewRequest(req.Method, req.URL.String(), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header = req.Header.Clone()
		r.ContentLength = int64(len(body))
		return r
	}
}

var streamSizes = []int{0, 1, 100, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3*64<<10 + 17}

func TestMinioStreamingSigned(t *testing.T) {
	clock := newFakeClock(testTime.Add(2 * time.Minute))
	h := newHarness(t, testVerifier(t, clock), false)
	r := newRand(t)
	for _, n := range streamSizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			o := h.do(minioStreaming(t, objectURL(t, h.srv.URL, "big/obj ect", ""), data, "", "")).mustOK(t)
			if !bytes.Equal(o.data, data) {
				t.Fatalf("decoded %d bytes, want %d", len(o.data), n)
			}
			if !o.res.Chunked || o.res.DecodedLength != int64(n) || o.res.PayloadHash != StreamingPayload || o.res.ContentEncoding != "" {
				t.Fatalf("result %+v", o.res)
			}
		})
		for _, alg := range ChecksumAlgorithms() {
			t.Run(strconv.Itoa(n)+"/trailer-"+string(alg), func(t *testing.T) {
				o := h.do(minioStreaming(t, objectURL(t, h.srv.URL, "t", ""), data, alg, "")).mustOK(t)
				if !bytes.Equal(o.data, data) {
					t.Fatalf("decoded %d bytes, want %d", len(o.data), n)
				}
				if got := o.trailer.Get(alg.HeaderName()); got != checksumB64(alg, data) {
					t.Fatalf("trailer %v", o.trailer)
				}
				if o.res.PayloadHash != StreamingPayloadTrailer {
					t.Fatalf("payload hash %q", o.res.PayloadHash)
				}
			})
		}
	}
}

func TestMinioStreamingTamper(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes: 3 chunks
	u := objectURL(t, h.srv.URL, "k", "")

	body, remake := wire(t, minioStreaming(t, u, data, "", ""))
	h.do(remake(body)).mustOK(t)

	firstData := bytes.Index(body, []byte("\r\n")) + 2
	secondHeader := firstData + 64<<10 + 2
	flip := func(i int) []byte {
		b := bytes.Clone(body)
		b[i] ^= 0x01
		return b
	}
	t.Run("first chunk byte", func(t *testing.T) {
		o := h.do(remake(flip(firstData + 5)))
		o.wantErr(t, s3err.ErrSignatureDoesNotMatch)
		if len(o.data) != 0 {
			t.Fatalf("released %d bytes of an unverified chunk", len(o.data))
		}
	})
	t.Run("second chunk byte", func(t *testing.T) {
		o := h.do(remake(flip(secondHeader + 100)))
		o.wantErr(t, s3err.ErrSignatureDoesNotMatch)
		if len(o.data) != 64<<10 || !bytes.Equal(o.data, data[:64<<10]) {
			t.Fatalf("released %d bytes, want exactly the verified first chunk", len(o.data))
		}
	})
	t.Run("chunk signature", func(t *testing.T) {
		b := bytes.Clone(body)
		i := bytes.Index(b, []byte("chunk-signature=")) + len("chunk-signature=")
		b[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", b[i])+1)%16]
		h.do(remake(b)).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("chunks swapped", func(t *testing.T) {
		// Chunks are chained: two valid chunks of equal size, swapped,
		// keep the length but break the chain at the first one.
		first, second := body[:secondHeader], body[secondHeader:2*secondHeader]
		b := append(append(append([]byte{}, second...), first...), body[2*secondHeader:]...)
		o := h.do(remake(b))
		o.wantErr(t, s3err.ErrSignatureDoesNotMatch)
		if len(o.data) != 0 {
			t.Fatalf("released %d bytes", len(o.data))
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, cut := range []int{1, 2, 3, 50, 86, len(body) / 2, len(body) - 1} {
			o := h.do(remake(body[:len(body)-cut]))
			if cut == 2 {
				// Only the final CRLF is missing: every chunk, the final
				// one included, was verified.
				o.mustOK(t)
				continue
			}
			if o.err() == nil {
				t.Fatalf("cut %d: accepted", cut)
			}
		}
		h.do(remake(body[:secondHeader+10])).wantErr(t, s3err.ErrIncompleteBody)
	})
	t.Run("wrong secret", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
		req = signer.StreamingSignV4(req, testAK, otherSK, "", "us-east-1", int64(len(data)), testTime, stdHasher{sha256.New()})
		h.do(req).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("decoded length header changed", func(t *testing.T) {
		r := remake(body)
		r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)-1))
		h.do(r).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
}

func TestMinioStreamingTrailerTamper(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	data := bytes.Repeat([]byte("trailer "), 20000)
	u := objectURL(t, h.srv.URL, "k", "")

	t.Run("wrong checksum value, correctly signed", func(t *testing.T) {
		bad := checksumB64(ChecksumCRC32C, []byte("something else"))
		o := h.do(minioStreaming(t, u, data, ChecksumCRC32C, bad))
		o.wantErr(t, s3err.ErrXAmzContentChecksumMismatch)
		if o.trailer != nil {
			t.Fatalf("trailer published after a mismatch: %v", o.trailer)
		}
	})
	t.Run("malformed checksum value", func(t *testing.T) {
		h.do(minioStreaming(t, u, data, ChecksumSHA256, "not-base64!")).wantErr(t, s3err.ErrInvalidRequest)
	})
	body, remake := wire(t, minioStreaming(t, u, data, ChecksumCRC64NVME, ""))
	h.do(remake(body)).mustOK(t)
	t.Run("trailer value changed", func(t *testing.T) {
		i := bytes.Index(body, []byte("x-amz-checksum-crc64nvme:")) + len("x-amz-checksum-crc64nvme:")
		b := bytes.Clone(body)
		b[i] ^= 0x02
		h.do(remake(b)).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("trailer signature changed", func(t *testing.T) {
		i := bytes.Index(body, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:")
		b := bytes.Clone(body)
		b[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", b[i])+1)%16]
		h.do(remake(b)).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("trailer signature removed", func(t *testing.T) {
		i := bytes.Index(body, []byte("x-amz-trailer-signature:"))
		h.do(remake(append(bytes.Clone(body[:i]), "\r\n"...))).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("trailer removed", func(t *testing.T) {
		i := bytes.Index(body, []byte("x-amz-checksum-crc64nvme:"))
		j := bytes.Index(body, []byte("x-amz-trailer-signature:"))
		h.do(remake(append(bytes.Clone(body[:i]), body[j:]...))).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("data byte changed", func(t *testing.T) {
		b := bytes.Clone(body)
		b[len(b)/3] ^= 0x40
		if o := h.do(remake(b)); o.err() == nil {
			t.Fatal("accepted")
		}
	})
}

// minioUnsignedTrailer returns a PUT signed with minio-go's SignV4Trailer:
// a header-signed request whose body is aws-chunked without chunk
// signatures, ending in a checksum trailer.
func minioUnsignedTrailer(t testing.TB, u string, data []byte, alg ChecksumAlgorithm, value string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedPayloadTrailer)
	req.ContentLength = int64(len(data))
	if value == "" {
		value = checksumB64(alg, data)
	}
	return signer.SignV4Trailer(*req, testAK, testSecret, "", "us-east-1", http.Header{http.CanonicalHeaderKey(alg.HeaderName()): {value}})
}

func TestMinioUnsignedTrailer(t *testing.T) {
	// minio-go's SignV4Trailer and SignV4 read the wall clock, so the fake
	// clock starts at the wall-clock time of the test.
	clock := newFakeClock(time.Now())
	h := newHarness(t, testVerifier(t, clock), false)
	r := newRand(t)
	for _, n := range streamSizes {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		for _, alg := range ChecksumAlgorithms() {
			t.Run(strconv.Itoa(n)+"/"+string(alg), func(t *testing.T) {
				o := h.do(minioUnsignedTrailer(t, objectURL(t, h.srv.URL, "u/"+string(alg), ""), data, alg, "")).mustOK(t)
				if !bytes.Equal(o.data, data) {
					t.Fatalf("decoded %d bytes, want %d", len(o.data), n)
				}
				if o.trailer.Get(alg.HeaderName()) != checksumB64(alg, data) || o.res.DecodedLength != int64(n) {
					t.Fatalf("trailer %v, DecodedLength %d", o.trailer, o.res.DecodedLength)
				}
			})
		}
	}
	data := bytes.Repeat([]byte("z"), 70000)
	u := objectURL(t, h.srv.URL, "k", "")
	t.Run("wrong checksum", func(t *testing.T) {
		h.do(minioUnsignedTrailer(t, u, data, ChecksumCRC32, checksumB64(ChecksumCRC32, []byte("no")))).wantErr(t, s3err.ErrXAmzContentChecksumMismatch)
	})
	body, remake := wire(t, minioUnsignedTrailer(t, u, data, ChecksumSHA1, ""))
	t.Run("changed data byte", func(t *testing.T) {
		b := bytes.Clone(body)
		b[1000] ^= 1
		h.do(remake(b)).wantErr(t, s3err.ErrXAmzContentChecksumMismatch)
	})
	t.Run("truncated", func(t *testing.T) {
		for _, cut := range []int{5, 40, len(body) - 100} {
			if o := h.do(remake(body[:len(body)-cut])); o.err() == nil {
				t.Fatalf("cut %d accepted", cut)
			}
		}
	})
	t.Run("x-amz-trailer changed", func(t *testing.T) {
		r := remake(body)
		r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		h.do(r).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
}

func TestMinioSignV4AndPresign(t *testing.T) {
	clock := newFakeClock(time.Now())
	h := newHarness(t, testVerifier(t, clock), false)
	for _, key := range oddKeys {
		t.Run("SignV4/"+key, func(t *testing.T) {
			body := []byte("minio " + key)
			req, err := http.NewRequest(http.MethodPut, objectURL(t, h.srv.URL, key, "tagging="), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Content-Sha256", sha256hex(body))
			req.Header.Set("X-Amz-Meta-Key", "v  with   spaces")
			req.Header.Add("X-Amz-Meta-Multi", "one")
			req.Header.Add("X-Amz-Meta-Multi", "two")
			o := h.do(signer.SignV4(*req, testAK, testSecret, "", "us-east-1")).mustOK(t)
			if !bytes.Equal(o.data, body) {
				t.Fatalf("body %q", o.data)
			}
		})
		t.Run("PreSignV4/"+key, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, objectURL(t, h.srv.URL, key, "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22"), nil)
			if err != nil {
				t.Fatal(err)
			}
			ps := signer.PreSignV4(*req, testAK, testSecret, "", "eu-west-1", 300)
			o := h.do(ps).mustOK(t)
			if !o.res.Presigned || o.res.Region != "eu-west-1" {
				t.Fatalf("result %+v", o.res)
			}
		})
	}
	t.Run("presign expiry", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, objectURL(t, h.srv.URL, "x", ""), nil)
		ps := signer.PreSignV4(*req, testAK, testSecret, "", "us-east-1", 60)
		signedAt, err := time.Parse(amzDateLayout, ps.URL.Query().Get("X-Amz-Date"))
		if err != nil {
			t.Fatal(err)
		}
		clock.Set(signedAt.Add(61 * time.Second))
		o := h.do(ps)
		o.wantErr(t, s3err.ErrAccessDenied)
		if !strings.Contains(s3err.As(o.err()).Message, "expired") {
			t.Fatalf("message %q", s3err.As(o.err()).Message)
		}
	})
}

// TestEncoderMatchesMinio checks the test encoder against minio-go: the
// same data, seed and time give the same bytes.
func TestEncoderMatchesMinio(t *testing.T) {
	data := bytes.Repeat([]byte{7, 8, 9}, 50000)
	req, _ := http.NewRequest(http.MethodPut, "http://example.com/bucket/key", bytes.NewReader(data))
	req = signer.StreamingSignV4(req, testAK, testSecret, "", "us-east-1", int64(len(data)), testTime, stdHasher{sha256.New()})
	got, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	a, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	enc := &streamEncoder{signed: true, key: testSigningKey(testSecret, a.cred.date, "us-east-1", "s3"),
		amzDate: testTime.Format(amzDateLayout), scope: a.cred.scope(), prev: a.signature}
	want := enc.encode(data, []int{64 << 10, 64 << 10, 64 << 10}, nil, false)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoder differs from minio-go: %d vs %d bytes", len(want), len(got))
	}
}
