package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// FuzzParseAuthorization: any header value parses or fails with an
// *s3err.Error, never panics; what parses re-renders to a header that
// parses to the same fields.
func FuzzParseAuthorization(f *testing.F) {
	const cred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;range;x-amz-date, Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host,Signature=" + goodSig,
		"AWS4-HMAC-SHA256\tCredential = " + cred + " SignedHeaders=host Signature=" + goodSig,
		"AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
		"AWS4-HMAC-SHA256 Credential=a/b/20130524/r/s3/aws4_request, SignedHeaders=host;;x, Signature=00",
		"", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ,,,=,=", "Bearer x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			var se *s3err.Error
			if !errors.As(err, &se) {
				t.Fatalf("unclassified error %v", err)
			}
			if len(se.Message) > 400 {
				t.Fatalf("message of %d bytes", len(se.Message))
			}
			return
		}
		again := algorithm + " Credential=" + a.cred.accessKey + "/" + a.cred.scope() + ", SignedHeaders=" + a.signedRaw + ", Signature=" + a.signature
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("re-rendered %q: %v", again, err)
		}
		if a.cred != b.cred || a.signedRaw != b.signedRaw || a.signature != b.signature || len(a.signedHeaders) != len(b.signedHeaders) {
			t.Fatalf("round trip %+v != %+v", a, b)
		}
	})
}

// FuzzCanonicalRequest builds a request from arbitrary method, target,
// headers and signed-header list. Construction must not panic, must be
// deterministic, and the canonical URI and query must use only the
// characters SigV4 allows.
func FuzzCanonicalRequest(f *testing.F) {
	f.Add("GET", "/bucket/a%20b?x=1&y", "X-Amz-Meta-A", "  v  w ", "host;x-amz-meta-a")
	f.Add("PUT", "/b/%E6%97%A5/~x?acl&b=%2B+c", "Content-Type", "text/plain", "content-type;host")
	f.Add("POST", "/b//./..?delete", "X-Amz-Date", "20260314T150926Z", "host;x-amz-date;content-length")
	f.Add("GET", "/%zz?%zz=1", "A", "", "a;host")
	f.Fuzz(func(t *testing.T, method, target, hname, hval, signed string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: h.example\r\n\r\n")))
		if err != nil {
			return // net/http would not deliver this request
		}
		if hname != "" {
			req.Header.Add(hname, hval)
		}
		names := strings.Split(signed, ";")
		c1, err1 := canonicalRequest(req, names, signed, UnsignedPayload, "X-Amz-Signature")
		c2, err2 := canonicalRequest(req, names, signed, UnsignedPayload, "X-Amz-Signature")
		if c1 != c2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %q / %q", c1, c2)
		}
		if err1 != nil {
			var se *s3err.Error
			if !errors.As(err1, &se) {
				t.Fatalf("unclassified error %v", err1)
			}
			return
		}
		lines := strings.SplitN(c1, "\n", 4)
		if len(lines) < 4 || lines[0] != req.Method {
			t.Fatalf("malformed canonical request %q", c1)
		}
		for _, part := range []struct {
			s     string
			extra string
		}{{lines[1], "/"}, {lines[2], "=&"}} {
			for i := 0; i < len(part.s); i++ {
				c := part.s[i]
				if c == '%' {
					if i+2 >= len(part.s) || !isUpperHex(part.s[i+1]) || !isUpperHex(part.s[i+2]) {
						t.Fatalf("bad escape in %q", part.s)
					}
					i += 2
					continue
				}
				if !isUnreserved(c) && !strings.ContainsRune(part.extra, rune(c)) {
					t.Fatalf("unencoded %q in %q", c, part.s)
				}
			}
		}
	})
}

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

// FuzzChunkedDecoder feeds arbitrary bytes to the aws-chunked decoder in
// each mode. It must end in data plus io.EOF or in an error, never panic,
// never yield more bytes than it was given, never hold a buffer larger
// than the chunk limit, and never return io.EOF with a length other than
// the declared one.
func FuzzChunkedDecoder(f *testing.F) {
	data := []byte("hello, fuzzer; this is aws-chunked data")
	crc := [][2]string{{"x-amz-checksum-crc32", checksumB64(ChecksumCRC32, data)}}
	f.Add(fixedEncoder(true).encode(data, []int{7, 9}, nil, false), uint8(0), int64(len(data)))
	f.Add(fixedEncoder(true).encode(data, []int{20}, crc, true), uint8(1), int64(len(data)))
	f.Add(fixedEncoder(false).encode(data, []int{1, 2, 3}, crc, true), uint8(2), int64(-1))
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:"+checksumB64(ChecksumCRC32, []byte("hello"))+"\n\r\n\r\n"), uint8(2), int64(5))
	f.Add([]byte("ffffffffffffffff;chunk-signature="+fixedSeed+"\r\n"), uint8(0), int64(-1))
	f.Add([]byte("0\r\n"+strings.Repeat("x-amz-checksum-crc32:AAAAAA==\r\n", 3)), uint8(2), int64(0))
	const maxChunk = 4096
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, declared int64) {
		if declared < -1 {
			declared = -1
		}
		opt := chunkedOptions{declared: declared, maxChunk: maxChunk}
		switch mode % 3 {
		case 0:
			opt.signer = fixedSigner()
		case 1:
			opt.signer, opt.trailer = fixedSigner(), true
			opt.trailerNames, opt.checksum = []string{"x-amz-checksum-crc32"}, ChecksumCRC32
		case 2:
			opt.trailer = true
			opt.trailerNames, opt.checksum = []string{"x-amz-checksum-crc32"}, ChecksumCRC32
		}
		c := newChunkedReader(io.NopCloser(bytes.NewReader(body)), opt)
		var out int64
		buf := make([]byte, 1+len(body)%977)
		for {
			n, err := c.Read(buf)
			out += int64(n)
			if cap(c.buf) > maxChunk {
				t.Fatalf("buffer of %d bytes", cap(c.buf))
			}
			if out > int64(len(body)) {
				t.Fatalf("decoded %d bytes from %d", out, len(body))
			}
			if err == io.EOF {
				if declared >= 0 && out != declared {
					t.Fatalf("EOF after %d bytes, declared %d", out, declared)
				}
				if c.Trailer() == nil {
					t.Fatal("EOF without a published trailer")
				}
				return
			}
			if err != nil {
				var se *s3err.Error
				if !errors.As(err, &se) {
					t.Fatalf("unclassified error %v", err)
				}
				if c.Trailer() != nil {
					t.Fatal("trailer published on error")
				}
				if _, err2 := c.Read(buf); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
		}
	})
}
