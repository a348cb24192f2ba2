package sigv4

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// signInProcess signs a server-side request (as httptest.NewRequest makes
// it) with the SDK signer, for tests that need no wire.
func signInProcess(t testing.TB, r *http.Request, payloadHash string, at time.Time) {
	t.Helper()
	if payloadHash != "" {
		r.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	cl := r.ContentLength
	r.ContentLength = 0 // keep content-length out of the signature
	if err := s3Signer().SignHTTP(context.Background(), awsCreds(testAK, testSecret), r, payloadHash, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	r.ContentLength = cl
}

func wantCode(t testing.TB, err error, want *s3err.Error) {
	t.Helper()
	var se *s3err.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want %s", err, want.Code)
	}
	if se.Code != want.Code || se.HTTPStatus != want.HTTPStatus {
		t.Fatalf("got %s (%d) %q, want %s (%d)", se.Code, se.HTTPStatus, se.Message, want.Code, want.HTTPStatus)
	}
}

func TestVerifyAnonymous(t *testing.T) {
	v := testVerifier(t, newFakeClock(testTime))
	r := httptest.NewRequest("PUT", "/bucket/key", strings.NewReader("public data"))
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if !res.Anonymous || res.AccessKey != "" || string(b) != "public data" || err != nil || res.DecodedLength != 11 {
		t.Fatalf("result %+v, %q, %v", res, b, err)
	}

	// An anonymous body is still checked against the digest it declares.
	r = httptest.NewRequest("PUT", "/bucket/key", strings.NewReader("public data"))
	r.Header.Set("X-Amz-Content-Sha256", sha256hex([]byte("other data")))
	res, err = v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(res.Body)
	wantCode(t, err, s3err.ErrXAmzContentSHA256Mismatch)

	// An anonymous aws-chunked upload with a trailing checksum decodes.
	data := []byte("anonymous chunked")
	enc := &streamEncoder{}
	body := enc.encode(data, []int{5}, [][2]string{{"x-amz-checksum-crc32", checksumB64(ChecksumCRC32, data)}}, true)
	r = httptest.NewRequest("PUT", "/bucket/key", bytes.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedPayloadTrailer)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	r.Header.Set("Content-Encoding", "gzip, aws-chunked")
	res, err = v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil || !bytes.Equal(got, data) || res.DecodedLength != -1 || res.ContentEncoding != "gzip" {
		t.Fatalf("decoded %q, %v, result %+v", got, err, res)
	}

	// Signed chunks need a signature.
	r = httptest.NewRequest("PUT", "/bucket/key", bytes.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	_, err = v.Verify(r)
	wantCode(t, err, s3err.ErrInvalidRequest)
}

func TestVerifyRejectsOtherSchemes(t *testing.T) {
	v := testVerifier(t, newFakeClock(testTime))
	for name, mk := range map[string]func() *http.Request{
		"SigV2 header": func() *http.Request {
			r := httptest.NewRequest("GET", "/bucket/key", nil)
			r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
			return r
		},
		"SigV2 query": func() *http.Request {
			return httptest.NewRequest("GET", "/bucket/key?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", nil)
		},
		"SigV4a": func() *http.Request {
			r := httptest.NewRequest("GET", "/bucket/key", nil)
			r.Header.Set("Authorization", "AWS4-ECDSA-P256-SHA256 Credential=AKID/20130524/s3/aws4_request, SignedHeaders=host, Signature=3045")
			return r
		},
		"bearer": func() *http.Request {
			r := httptest.NewRequest("GET", "/bucket/key", nil)
			r.Header.Set("Authorization", "Bearer token")
			return r
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(mk())
			if err != s3err.ErrUnsupportedSignature {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestVerifyHeaderErrors(t *testing.T) {
	clock := newFakeClock(testTime)
	v := testVerifier(t, clock)
	signed := func(mutate func(r *http.Request)) *http.Request {
		r := httptest.NewRequest("PUT", "http://h.example/bucket/k", strings.NewReader("data"))
		if mutate != nil {
			mutate(r)
		}
		signInProcess(t, r, sha256hex([]byte("data")), testTime)
		return r
	}
	if _, err := v.Verify(signed(nil)); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want *s3err.Error
	}{
		{"two Authorization headers", func() *http.Request {
			r := signed(nil)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, s3err.ErrAuthorizationHeaderMalformed},
		{"no date", func() *http.Request {
			r := signed(nil)
			r.Header.Del("X-Amz-Date")
			return r
		}, s3err.ErrAccessDenied},
		{"unparseable date", func() *http.Request {
			r := signed(nil)
			r.Header.Set("X-Amz-Date", "2026-03-14T15:09:26Z")
			return r
		}, s3err.ErrAccessDenied},
		{"credential date differs from X-Amz-Date", func() *http.Request {
			r := signed(nil)
			r.Header.Set("X-Amz-Date", testTime.Add(-16*time.Hour).Format(amzDateLayout))
			return r
		}, s3err.ErrAuthorizationHeaderMalformed},
		{"no payload hash", func() *http.Request {
			r := httptest.NewRequest("GET", "http://h.example/bucket/k", nil)
			signInProcess(t, r, "", testTime)
			return r
		}, s3err.ErrInvalidRequest},
		{"invalid payload hash", func() *http.Request {
			r := httptest.NewRequest("GET", "http://h.example/bucket/k", nil)
			signInProcess(t, r, "sha256-please", testTime)
			return r
		}, s3err.ErrInvalidArgument},
		{"x-amz-trailer with a plain payload", func() *http.Request {
			return signed(func(r *http.Request) { r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32") })
		}, s3err.ErrInvalidRequest},
		{"non-checksum trailer", func() *http.Request {
			r := httptest.NewRequest("PUT", "http://h.example/bucket/k", strings.NewReader("0\r\n\r\n"))
			r.Header.Set("X-Amz-Trailer", "x-amz-meta-foo")
			signInProcess(t, r, StreamingUnsignedPayloadTrailer, testTime)
			return r
		}, s3err.ErrInvalidRequest},
		{"two checksum trailers", func() *http.Request {
			r := httptest.NewRequest("PUT", "http://h.example/bucket/k", strings.NewReader("0\r\n\r\n"))
			r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32,x-amz-checksum-sha256")
			signInProcess(t, r, StreamingUnsignedPayloadTrailer, testTime)
			return r
		}, s3err.ErrInvalidRequest},
		{"signed streaming without decoded length", func() *http.Request {
			r := httptest.NewRequest("PUT", "http://h.example/bucket/k", strings.NewReader(""))
			signInProcess(t, r, StreamingPayload, testTime)
			return r
		}, s3err.ErrMissingContentLength},
		{"bad decoded length", func() *http.Request {
			r := httptest.NewRequest("PUT", "http://h.example/bucket/k", strings.NewReader(""))
			r.Header.Set("X-Amz-Decoded-Content-Length", "-5")
			signInProcess(t, r, StreamingPayload, testTime)
			return r
		}, s3err.ErrInvalidArgument},
		{"SigV4a streaming payload", func() *http.Request {
			r := httptest.NewRequest("PUT", "http://h.example/bucket/k", strings.NewReader(""))
			signInProcess(t, r, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", testTime)
			return r
		}, s3err.ErrUnsupportedSignature},
		{"payload hash not signed", func() *http.Request {
			r := signed(nil)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "x-amz-content-sha256;", "", 1))
			return r
		}, s3err.ErrInvalidRequest},
		{"other x-amz header not signed", func() *http.Request {
			r := signed(nil)
			r.Header.Set("X-Amz-Storage-Class", "GLACIER")
			return r
		}, s3err.ErrAccessDenied},
		{"two payload hash headers", func() *http.Request {
			r := signed(nil)
			r.Header.Add("X-Amz-Content-Sha256", UnsignedPayload)
			return r
		}, s3err.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.req())
			wantCode(t, err, tc.want)
		})
	}
}

func TestVerifyDateHeader(t *testing.T) {
	// A client that sends only Date (RFC 1123): the string to sign uses
	// the ISO 8601 form of that time.
	v := testVerifier(t, newFakeClock(testTime))
	r := httptest.NewRequest("GET", "http://h.example/bucket/k", nil)
	r.Header.Set("Date", testTime.Format(http.TimeFormat))
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	cred := credential{accessKey: testAK, date: "20260314", region: "us-east-1", service: "s3"}
	signedH := []string{"date", "host", "x-amz-content-sha256"}
	canon, err := canonicalRequest(r, signedH, "date;host;x-amz-content-sha256", emptySHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	key := testSigningKey(testSecret, "20260314", "us-east-1", "s3")
	sts := "AWS4-HMAC-SHA256\n20260314T150926Z\n" + cred.scope() + "\n" + sha256hex([]byte(canon))
	sig := signatureHex(key, sts)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAK+"/"+cred.scope()+", SignedHeaders=date;host;x-amz-content-sha256, Signature="+sig)
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	if !res.SignedAt.Equal(testTime) {
		t.Fatalf("SignedAt %v", res.SignedAt)
	}
}

func TestVerifyPresignedErrors(t *testing.T) {
	clock := newFakeClock(testTime)
	v := testVerifier(t, clock)
	base := func() string {
		u, _ := presign(t, http.MethodGet, "http://h.example/bucket/k", time.Hour, nil, testTime, UnsignedPayload)
		return u
	}
	if _, err := v.Verify(httptest.NewRequest("GET", base(), nil)); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	replace := func(old, new string) func() *http.Request {
		return func() *http.Request {
			return httptest.NewRequest("GET", strings.Replace(base(), old, new, 1), nil)
		}
	}
	cases := []struct {
		name string
		req  func() *http.Request
		want *s3err.Error
	}{
		{"credential alone is not anonymous", func() *http.Request {
			return httptest.NewRequest("GET", "/bucket/k?X-Amz-Credential=AKID%2F20260314%2Fus-east-1%2Fs3%2Faws4_request", nil)
		}, s3err.ErrAuthorizationQueryParamsError},
		{"wrong algorithm", replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"), s3err.ErrAuthorizationQueryParamsError},
		{"missing expires", replace("X-Amz-Expires=3600", "X-Amz-Whatever=3600"), s3err.ErrAuthorizationQueryParamsError},
		{"negative expires", replace("X-Amz-Expires=3600", "X-Amz-Expires=-1"), s3err.ErrAuthorizationQueryParamsError},
		{"non-numeric expires", replace("X-Amz-Expires=3600", "X-Amz-Expires=1h"), s3err.ErrAuthorizationQueryParamsError},
		{"bad date", replace("X-Amz-Date=20260314T150926Z", "X-Amz-Date=20260314"), s3err.ErrAuthorizationQueryParamsError},
		{"date differs from credential", replace("X-Amz-Date=20260314T150926Z", "X-Amz-Date=20260313T150926Z"), s3err.ErrAuthorizationQueryParamsError},
		{"bad credential", replace("%2Faws4_request", "%2Faws5_request"), s3err.ErrAuthorizationQueryParamsError},
		{"unsigned payload header not signed", func() *http.Request {
			r := httptest.NewRequest("GET", base(), nil)
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			return r
		}, s3err.ErrAccessDenied},
		{"streaming payload", func() *http.Request {
			return httptest.NewRequest("GET", base()+"&X-Amz-Content-Sha256="+StreamingPayload, nil)
		}, s3err.ErrInvalidRequest},
		{"session token", func() *http.Request {
			return httptest.NewRequest("GET", base()+"&X-Amz-Security-Token=abc", nil)
		}, s3err.ErrInvalidToken},
		{"bad escape", func() *http.Request {
			return httptest.NewRequest("GET", base()+"&x=%zz", nil)
		}, s3err.ErrAuthorizationQueryParamsError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(tc.req())
			wantCode(t, err, tc.want)
		})
	}
}

func TestVerifyLookupErrors(t *testing.T) {
	clock := newFakeClock(testTime)
	boom := errors.New("key store unreachable")
	v := testVerifier(t, clock, func(c *Config) {
		c.Lookup = func(string) (string, string, error) { return "", "", boom }
	})
	r := httptest.NewRequest("GET", "http://h.example/bucket/k", nil)
	signInProcess(t, r, emptySHA256, testTime)
	_, err := v.Verify(r)
	wantCode(t, err, s3err.ErrInternalError)
	if !errors.Is(err, boom) {
		t.Fatalf("cause lost: %v", err)
	}
	if strings.Contains(s3err.As(err).Message, "unreachable") {
		t.Fatalf("internal cause leaked into the message: %q", s3err.As(err).Message)
	}
}

func TestVerifyEmptySecretRefused(t *testing.T) {
	v := testVerifier(t, newFakeClock(testTime), func(c *Config) {
		c.Lookup = func(string) (string, string, error) { return "", "user:nobody", nil }
	})
	// A request signed with the empty secret, which anyone can compute.
	r := httptest.NewRequest("GET", "http://h.example/bucket/k", nil)
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := s3Signer().SignHTTP(context.Background(), awsCreds(testAK, ""), r, emptySHA256, "s3", "us-east-1", testTime); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(r)
	wantCode(t, err, s3err.ErrInternalError)
}

func TestVerifyResultTrailerBeforeEOF(t *testing.T) {
	v := testVerifier(t, newFakeClock(testTime))
	data := bytes.Repeat([]byte("x"), 100)
	body := (&streamEncoder{}).encode(data, []int{50}, [][2]string{{"x-amz-checksum-sha256", checksumB64(ChecksumSHA256, data)}}, true)
	r := httptest.NewRequest("PUT", "/b/k", bytes.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedPayloadTrailer)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-sha256")
	r.Header.Set("X-Amz-Decoded-Content-Length", "100")
	res, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(res.Body, buf); err != nil {
		t.Fatal(err)
	}
	if res.Trailer() != nil {
		t.Fatal("trailer visible before EOF")
	}
	if _, err := io.ReadAll(res.Body); err != nil {
		t.Fatal(err)
	}
	if res.Trailer().Get("X-Amz-Checksum-Sha256") == "" {
		t.Fatal("trailer missing after EOF")
	}
	// Reads after EOF keep returning EOF.
	if n, err := res.Body.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after EOF: %d, %v", n, err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if (&Result{}).Trailer() != nil {
		t.Fatal("trailer of a non-chunked result")
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lookup = testLookup
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("zero Config accepted")
	}
	err := (Config{Region: "us east", Service: "s/3", MaxSkew: -1, MaxPresignExpiry: 8 * 24 * time.Hour, MaxChunkSize: -1}).Validate()
	if err == nil {
		t.Fatal("bad Config accepted")
	}
	for _, want := range []string{"Region", "Service", "MaxSkew", "MaxPresignExpiry", "MaxChunkSize", "Lookup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate did not report %s: %v", want, err)
		}
	}
	d := DefaultConfig()
	if d.Region != "us-east-1" || d.Service != "s3" || d.MaxSkew != 15*time.Minute || d.MaxPresignExpiry != 7*24*time.Hour || d.MaxChunkSize != 16<<20 || d.StrictRegion {
		t.Fatalf("defaults %+v", d)
	}
	// Nil Now falls back to the wall clock.
	cfg.Now = nil
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(v.now()); d < 0 || d > time.Minute {
		t.Fatalf("now off by %v", d)
	}
	if v.Config().Region != "us-east-1" {
		t.Fatal("Config not kept")
	}
}
