package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Fixed signing context for decoder-level tests.
var (
	fixedKey   = testSigningKey(testSecret, "20260314", "us-east-1", "s3")
	fixedDate  = "20260314T150926Z"
	fixedScope = "20260314/us-east-1/s3/aws4_request"
	fixedSeed  = sha256hex([]byte("seed"))
)

func fixedSigner() *chunkSigner {
	return &chunkSigner{key: fixedKey, amzDate: fixedDate, scope: fixedScope, prev: fixedSeed}
}

func fixedEncoder(signed bool) *streamEncoder {
	return &streamEncoder{signed: signed, key: fixedKey, amzDate: fixedDate, scope: fixedScope, prev: fixedSeed}
}

// decodeAll decodes body with opt, reading through buffers of random size
// when r is not nil.
func decodeAll(body []byte, opt chunkedOptions, r *rand.Rand, src func(io.Reader) io.Reader) ([]byte, http.Header, error) {
	var in io.Reader = bytes.NewReader(body)
	if src != nil {
		in = src(in)
	}
	c := newChunkedReader(io.NopCloser(in), opt)
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n := len(buf)
		if r != nil {
			n = 1 + r.IntN(len(buf))
		}
		k, err := c.Read(buf[:n])
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out, c.Trailer(), nil
		}
		if err != nil {
			return out, c.Trailer(), err
		}
	}
}

func TestChunkedFraming(t *testing.T) {
	crcOf := func(s string) string { return checksumB64(ChecksumCRC32, []byte(s)) }
	unsigned := chunkedOptions{trailer: true, declared: -1, maxChunk: 1 << 20}
	withCRC := chunkedOptions{trailer: true, trailerNames: []string{"x-amz-checksum-crc32"}, checksum: ChecksumCRC32, declared: -1, maxChunk: 1 << 20}
	cases := []struct {
		name string
		body string
		opt  chunkedOptions
		want *s3err.Error // nil: decodes to data
		data string
	}{
		{"empty object", "0\r\n\r\n", unsigned, nil, ""},
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", unsigned, nil, "hello world"},
		{"uppercase hex and leading zeros", "000B\r\nhello world\r\n0\r\n\r\n", unsigned, nil, "hello world"},
		{"extension ignored when unsigned", "5;foo=bar\r\nhello\r\n0\r\n\r\n", unsigned, nil, "hello"},
		{"no final CRLF", "5\r\nhello\r\n0\r\n", unsigned, nil, "hello"},
		{"AWS SDK trailer layout", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crcOf("hello") + "\r\n\r\n", withCRC, nil, "hello"},
		{"minio-go trailer layout", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crcOf("hello") + "\n\r\n\r\n", withCRC, nil, "hello"},
		{"trailer name case and spaces", "5\r\nhello\r\n0\r\nX-Amz-Checksum-CRC32 :  " + crcOf("hello") + " \r\n\r\n", withCRC, nil, "hello"},

		{"empty body", "", unsigned, s3err.ErrIncompleteBody, ""},
		{"no final chunk", "5\r\nhello\r\n", unsigned, s3err.ErrIncompleteBody, "hello"},
		{"cut inside data", "5\r\nhel", unsigned, s3err.ErrIncompleteBody, "hel"},
		{"cut inside header", "5", unsigned, s3err.ErrIncompleteBody, ""},
		{"data longer than size", "5\r\nhelloXX\r\n0\r\n\r\n", unsigned, s3err.ErrInvalidRequest, "hello"},
		{"bare LF header", "5\nhello\r\n0\r\n\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"not hex", "zz\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"empty size", "\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"negative size", "-5\r\nhello\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"17 hex digits", "00000000000000005\r\nhello\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"huge size", "ffffffffffffffff\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"over the chunk limit", "100001\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"endless header line", strings.Repeat("1", 5000), unsigned, s3err.ErrInvalidRequest, ""},
		{"garbage after final chunk", "0\r\n\r\ngarbage\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"undeclared trailer", "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"declared trailer missing", "5\r\nhello\r\n0\r\n\r\n", withCRC, s3err.ErrInvalidRequest, "hello"},
		{"wrong trailing checksum", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crcOf("hellO") + "\r\n\r\n", withCRC, s3err.ErrXAmzContentChecksumMismatch, "hello"},
		{"malformed trailing checksum", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:***\r\n\r\n", withCRC, s3err.ErrInvalidRequest, "hello"},
		{"trailer twice", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crcOf("hello") + "\r\nx-amz-checksum-crc32:" + crcOf("hello") + "\r\n\r\n", withCRC, s3err.ErrInvalidRequest, "hello"},
		{"trailer without colon", "0\r\nx-amz-checksum-crc32\r\n\r\n", withCRC, s3err.ErrInvalidRequest, ""},
		{"unterminated trailer line", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crcOf("hello"), withCRC, s3err.ErrIncompleteBody, "hello"},
		{"trailer section too large", "0\r\n" + strings.Repeat("\r\n", 9000), unsigned, s3err.ErrInvalidRequest, ""},
		{"trailer signature without signing", "0\r\nx-amz-trailer-signature:" + fixedSeed + "\r\n\r\n", unsigned, s3err.ErrInvalidRequest, ""},
		{"trailers not allowed", "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", chunkedOptions{declared: -1, maxChunk: 1 << 20}, s3err.ErrInvalidRequest, ""},
		{"decoded length short", "5\r\nhello\r\n0\r\n\r\n", chunkedOptions{trailer: true, declared: 6, maxChunk: 1 << 20}, s3err.ErrIncompleteBody, "hello"},
		{"decoded length long", "5\r\nhello\r\n0\r\n\r\n", chunkedOptions{trailer: true, declared: 4, maxChunk: 1 << 20}, s3err.ErrIncompleteBody, ""},
		{"decoded length exact", "5\r\nhello\r\n0\r\n\r\n", chunkedOptions{trailer: true, declared: 5, maxChunk: 1 << 20}, nil, "hello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, tr, err := decodeAll([]byte(tc.body), tc.opt, nil, nil)
			if string(got) != tc.data {
				t.Errorf("data %q, want %q", got, tc.data)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if len(tc.opt.trailerNames) > 0 && tr.Get("x-amz-checksum-crc32") == "" {
					t.Fatalf("trailer %v", tr)
				}
				return
			}
			wantCode(t, err, tc.want)
			if tr != nil {
				t.Fatalf("trailer published on error: %v", tr)
			}
		})
	}
}

func TestChunkedSignedFraming(t *testing.T) {
	opt := func() chunkedOptions {
		return chunkedOptions{signer: fixedSigner(), declared: -1, maxChunk: 1 << 20}
	}
	good := fixedEncoder(true).encode([]byte("hello world"), []int{5}, nil, false)
	if got, _, err := decodeAll(good, opt(), nil, nil); err != nil || string(got) != "hello world" {
		t.Fatalf("good stream: %q, %v", got, err)
	}
	sig := fixedEncoder(true).sign([]byte("hello"))
	for name, tc := range map[string]struct {
		body string
		want *s3err.Error
	}{
		"no signature":              {"5\r\nhello\r\n", s3err.ErrInvalidRequest},
		"short signature":           {"5;chunk-signature=" + sig[:63] + "\r\nhello\r\n", s3err.ErrInvalidRequest},
		"uppercase signature":       {"5;chunk-signature=" + strings.ToUpper(sig) + "\r\nhello\r\n", s3err.ErrInvalidRequest},
		"other extension":           {"5;chunk-sig=" + sig + "\r\nhello\r\n", s3err.ErrInvalidRequest},
		"space before extension":    {"5 ;chunk-signature=" + sig + "\r\nhello\r\n", s3err.ErrInvalidRequest},
		"wrong data":                {"5;chunk-signature=" + sig + "\r\nhellO\r\n", s3err.ErrSignatureDoesNotMatch},
		"cut before CRLF":           {"5;chunk-signature=" + sig + "\r\nhello", s3err.ErrIncompleteBody},
		"missing final chunk":       {"5;chunk-signature=" + sig + "\r\nhello\r\n", s3err.ErrIncompleteBody},
		"unsigned final chunk":      {"5;chunk-signature=" + sig + "\r\nhello\r\n0\r\n\r\n", s3err.ErrInvalidRequest},
		"final chunk bad signature": {"5;chunk-signature=" + sig + "\r\nhello\r\n0;chunk-signature=" + sig + "\r\n\r\n", s3err.ErrSignatureDoesNotMatch},
	} {
		t.Run(name, func(t *testing.T) {
			got, _, err := decodeAll([]byte(tc.body), opt(), nil, nil)
			wantCode(t, err, tc.want)
			if tc.want.Code == s3err.ErrSignatureDoesNotMatch.Code && name == "wrong data" && len(got) != 0 {
				t.Fatalf("released unverified bytes %q", got)
			}
		})
	}
}

// TestChunkedMemoryBound announces the largest chunk allowed and sends a
// few bytes: the buffer must not grow past what arrived.
func TestChunkedMemoryBound(t *testing.T) {
	body := "1000000;chunk-signature=" + fixedSeed + "\r\n" + strings.Repeat("x", 10)
	c := newChunkedReader(io.NopCloser(strings.NewReader(body)), chunkedOptions{signer: fixedSigner(), declared: -1, maxChunk: 16 << 20})
	_, err := io.ReadAll(c)
	wantCode(t, err, s3err.ErrIncompleteBody)
	if cap(c.buf) > initialChunkBuffer {
		t.Fatalf("buffer grew to %d bytes for 10 bytes of data", cap(c.buf))
	}

	// Many 64 KiB chunks reuse one 64 KiB buffer.
	data := bytes.Repeat([]byte{0xab}, 40*64<<10)
	enc := fixedEncoder(true).encode(data, repeatInt(64<<10, 40), nil, false)
	c = newChunkedReader(io.NopCloser(bytes.NewReader(enc)), chunkedOptions{signer: fixedSigner(), declared: int64(len(data)), maxChunk: 16 << 20})
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decode: %v", err)
	}
	if cap(c.buf) != 64<<10 {
		t.Fatalf("buffer %d bytes, want 64 KiB", cap(c.buf))
	}
}

func repeatInt(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// lazyStream produces a signed aws-chunked body of n chunks of size bytes
// one chunk at a time, so the test itself holds no whole body.
type lazyStream struct {
	enc   *streamEncoder
	chunk []byte
	left  int
	buf   bytes.Buffer
	done  bool
}

func (s *lazyStream) Read(p []byte) (int, error) {
	for s.buf.Len() == 0 {
		switch {
		case s.left > 0:
			s.enc.chunk(&s.buf, s.chunk)
			s.left--
		case !s.done:
			s.enc.final(&s.buf, nil, false)
			s.done = true
		default:
			return 0, io.EOF
		}
	}
	return s.buf.Read(p)
}

// TestChunkedConstantMemory decodes a 32 MiB signed upload and checks that
// the heap allocated meanwhile is a small fraction of it: the decoder
// streams and never buffers the body.
func TestChunkedConstantMemory(t *testing.T) {
	const chunk, chunks = 256 << 10, 128
	src := &lazyStream{enc: fixedEncoder(true), chunk: bytes.Repeat([]byte("m"), chunk), left: chunks}
	c := newChunkedReader(io.NopCloser(src), chunkedOptions{signer: fixedSigner(), declared: chunk * chunks, maxChunk: 16 << 20})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.Copy(io.Discard, c)
	runtime.ReadMemStats(&after)
	if err != nil || n != chunk*chunks {
		t.Fatalf("decoded %d bytes: %v", n, err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 8<<20 {
		t.Fatalf("allocated %d bytes to decode %d", grown, n)
	}
}

// TestChunkedRandomRoundTrip encodes random data in random chunkings in
// all three streaming modes, decodes it through random read sizes and
// random short reads of the source, then checks that every single-byte
// change and every truncation of the body is either rejected or decodes
// to exactly the original data and trailer: a wrong byte is never
// accepted.
func TestChunkedRandomRoundTrip(t *testing.T) {
	r := newRand(t)
	iters, flips, cuts := 50, 16, 8
	if testing.Short() || raceEnabled {
		iters, flips, cuts = 12, 10, 5
	}
	shortReads := func(in io.Reader) io.Reader { return &randomShortReader{r: in, rnd: r} }
	for it := 0; it < iters; it++ {
		mode := []payloadMode{payloadStreaming, payloadStreamingTrailer, payloadUnsignedTrailer}[r.IntN(3)]
		data := make([]byte, r.IntN(160<<10))
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		var sizes []int
		for left := len(data); left > 0; {
			n := 1 + r.IntN(40<<10)
			sizes = append(sizes, n)
			left -= n
		}
		var trailers [][2]string
		var names []string
		alg := ChecksumAlgorithm("")
		if mode.trailer() && r.IntN(4) != 0 {
			alg = ChecksumAlgorithms()[r.IntN(len(ChecksumAlgorithms()))]
			trailers = [][2]string{{alg.HeaderName(), checksumB64(alg, data)}}
			names = []string{alg.HeaderName()}
		}
		if mode == payloadUnsignedTrailer && alg == "" {
			// Without a checksum nothing protects unsigned data; the
			// mutation property below would not hold.
			alg = ChecksumCRC32C
			trailers = [][2]string{{alg.HeaderName(), checksumB64(alg, data)}}
			names = []string{alg.HeaderName()}
		}
		declared := int64(len(data))
		if mode == payloadUnsignedTrailer && r.IntN(2) == 0 {
			declared = -1
		}
		body := fixedEncoder(mode.signedChunks()).encode(data, sizes, trailers, mode.trailer())
		opt := func() chunkedOptions {
			o := chunkedOptions{trailer: mode.trailer(), trailerNames: names, checksum: alg, declared: declared, maxChunk: 40 << 10}
			if mode.signedChunks() {
				o.signer = fixedSigner()
			}
			return o
		}
		desc := fmt.Sprintf("iteration %d: mode %d, %d bytes in %d chunks, trailer %q", it, mode, len(data), len(sizes), alg)

		got, tr, err := decodeAll(body, opt(), r, shortReads)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: round trip: %v (%d bytes)", desc, err, len(got))
		}
		if alg != "" && tr.Get(alg.HeaderName()) != trailers[0][1] {
			t.Fatalf("%s: trailer %v", desc, tr)
		}

		for k := 0; k < flips; k++ {
			mutated := bytes.Clone(body)
			i := r.IntN(len(mutated))
			mutated[i] ^= byte(1 + r.IntN(255))
			got, tr2, err := decodeAll(mutated, opt(), r, shortReads)
			if err == nil && (!bytes.Equal(got, data) || tr2.Get(alg.HeaderName()) != tr.Get(alg.HeaderName())) {
				t.Fatalf("%s: byte %d changed (%q) and a different payload was accepted", desc, i, body[i])
			}
			if err != nil {
				var se *s3err.Error
				if !errors.As(err, &se) {
					t.Fatalf("%s: byte %d changed: unclassified error %v", desc, i, err)
				}
			}
		}
		for k := 0; k < cuts; k++ {
			cut := r.IntN(len(body))
			got, _, err := decodeAll(body[:cut], opt(), r, shortReads)
			if err == nil && !bytes.Equal(got, data) {
				t.Fatalf("%s: truncated at %d of %d and accepted %d bytes", desc, cut, len(body), len(got))
			}
		}
	}
}

// randomShortReader returns random short reads, as a network does.
type randomShortReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (s *randomShortReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1+s.rnd.IntN(len(p))]
	}
	return s.r.Read(p)
}

// TestVerifyStreamingThroughSDKSeed signs the seed request with the AWS
// SDK signer and encodes the chunks with the test encoder, including
// streams whose decoded length disagrees with the signed header.
func TestVerifyStreamingThroughSDKSeed(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock, func(c *Config) { c.MaxChunkSize = 128 << 10 }), false)
	mk := func(data []byte, declared int, sizes []int, mode string, trailers [][2]string) *http.Request {
		req, err := http.NewRequest(http.MethodPut, objectURL(t, h.srv.URL, "seeded", ""), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", mode)
		req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(declared))
		req.Header.Set("Content-Encoding", "aws-chunked")
		for _, tr := range trailers {
			req.Header.Add("X-Amz-Trailer", tr[0])
		}
		if err := s3Signer().SignHTTP(context.Background(), awsCreds(testAK, testSecret), req, mode, "s3", "us-east-1", testTime); err != nil {
			t.Fatal(err)
		}
		a, err := parseAuthorization(req.Header.Get("Authorization"))
		if err != nil {
			t.Fatal(err)
		}
		enc := &streamEncoder{signed: mode != StreamingUnsignedPayloadTrailer, key: testSigningKey(testSecret, a.cred.date, "us-east-1", "s3"),
			amzDate: testTime.Format(amzDateLayout), scope: a.cred.scope(), prev: a.signature}
		body := enc.encode(data, sizes, trailers, mode != StreamingPayload)
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		return req
	}
	data := bytes.Repeat([]byte("seeded "), 30000)
	h.do(mk(data, len(data), []int{100 << 10, 1, 7}, StreamingPayload, nil)).mustOK(t)
	h.do(mk(data, len(data)+1, []int{100 << 10}, StreamingPayload, nil)).wantErr(t, s3err.ErrIncompleteBody)
	h.do(mk(data, len(data)-1, []int{100 << 10}, StreamingPayload, nil)).wantErr(t, s3err.ErrIncompleteBody)
	h.do(mk(data, len(data), []int{129 << 10}, StreamingPayload, nil)).wantErr(t, s3err.ErrInvalidRequest) // over MaxChunkSize
	crc := [][2]string{{"x-amz-checksum-crc32c", checksumB64(ChecksumCRC32C, data)}}
	o := h.do(mk(data, len(data), []int{64 << 10, 64 << 10, 64 << 10}, StreamingPayloadTrailer, crc)).mustOK(t)
	if o.trailer.Get("x-amz-checksum-crc32c") != crc[0][1] || o.sums["CRC32C"] != crc[0][1] {
		t.Fatalf("trailer %v sums %v", o.trailer, o.sums)
	}
	wrong := [][2]string{{"x-amz-checksum-crc32c", checksumB64(ChecksumCRC32C, []byte("x"))}}
	h.do(mk(data, len(data), []int{64 << 10, 64 << 10, 64 << 10}, StreamingPayloadTrailer, wrong)).wantErr(t, s3err.ErrXAmzContentChecksumMismatch)
	h.do(mk(data, len(data), []int{64 << 10, 64 << 10, 64 << 10}, StreamingUnsignedPayloadTrailer, wrong)).wantErr(t, s3err.ErrXAmzContentChecksumMismatch)
	h.do(mk(data, len(data)+5, []int{64 << 10, 64 << 10, 64 << 10}, StreamingUnsignedPayloadTrailer, crc)).wantErr(t, s3err.ErrIncompleteBody)
}

// TestVerifyBodyCutByClient sends a request whose connection ends before
// Content-Length bytes arrived: the body error is IncompleteBody in every
// payload mode.
func TestVerifyBodyCutByClient(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	data := bytes.Repeat([]byte("cut "), 5000)
	hexReq := signedPut(t, objectURL(t, h.srv.URL, "cut", ""), data, testAK, testSecret, "us-east-1", testTime, nil)
	chunkedReq := minioStreaming(t, objectURL(t, h.srv.URL, "cut", ""), data, "", "")
	for name, req := range map[string]*http.Request{"hex": hexReq, "chunked": chunkedReq} {
		t.Run(name, func(t *testing.T) {
			full, err := io.ReadAll(req.Body)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.Dial("tcp", h.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			w := bufio.NewWriter(conn)
			fmt.Fprintf(w, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.RequestURI(), req.URL.Host, len(full))
			if err := req.Header.Write(w); err != nil {
				t.Fatal(err)
			}
			w.WriteString("\r\n")
			w.Write(full[:len(full)/2])
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			conn.(*net.TCPConn).CloseWrite()
			o := h.next(nil)
			o.wantErr(t, s3err.ErrIncompleteBody)
		})
	}
}
