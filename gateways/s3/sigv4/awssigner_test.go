package sigv4

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// These tests sign with aws-sdk-go-v2's SigV4 signer, configured as its S3
// client configures it (no second escaping of the already escaped path),
// send the request over a real HTTP connection and verify it on the
// server side.

var testTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func awsCreds(ak, sk string) aws.Credentials {
	return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}
}

func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// objectURL is base + "/bucket/" + key escaped as the S3 client escapes
// it, + "?" + rawQuery.
func objectURL(t testing.TB, base, key, rawQuery string) string {
	t.Helper()
	u := base + "/bucket/" + httpbinding.EscapePath(key, false)
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	if _, err := url.Parse(u); err != nil {
		t.Fatal(err)
	}
	return u
}

// signedPut builds and signs a PUT with a hex payload hash.
func signedPut(t testing.TB, u string, body []byte, ak, sk, region string, at time.Time, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ph := sha256hex(body)
	req.Header.Set("X-Amz-Content-Sha256", ph)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if err := s3Signer().SignHTTP(context.Background(), awsCreds(ak, sk), req, ph, "s3", region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

// oddKeys are object keys whose canonical form is easy to get wrong.
var oddKeys = []string{
	"plain.txt",
	"with space",
	"plus+sign",
	"percent%20literal",
	"percent%",
	"tilde~and-dash_and.dot",
	"equals=sign",
	"amp&ersand",
	"semi;colon,comma",
	"question?mark#hash",
	"colon:at@dollar$",
	"quote'double\"bang!star*(paren)",
	"unicode/ünïcødé/日本語/😀",
	"dir//double//slash",
	"./dot/../segments/.",
	"encoded%2Fslash-is-literal",
	"trailing/",
	"brackets[]{}|^`\\",
	"tab\tand\nnewline",
}

func TestAWSSignerHeaderOddKeys(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	for _, key := range oddKeys {
		t.Run(key, func(t *testing.T) {
			body := []byte("object body for " + key)
			req := signedPut(t, objectURL(t, h.srv.URL, key, ""), body, testAK, testSecret, "us-east-1", testTime, map[string]string{
				"Content-Type":        "text/plain;  charset=utf-8", // inner run of spaces
				"X-Amz-Meta-Owner":    "  alice   and  bob ",
				"X-Amz-Storage-Class": "STANDARD",
			})
			o := h.do(req).mustOK(t)
			if !bytes.Equal(o.data, body) {
				t.Fatalf("body %q", o.data)
			}
			if o.res.Principal != "user:alice" || o.res.AccessKey != testAK || o.res.Anonymous || o.res.Presigned {
				t.Fatalf("result %+v", o.res)
			}
			if o.res.DecodedLength != int64(len(body)) {
				t.Fatalf("DecodedLength %d", o.res.DecodedLength)
			}
		})
	}
}

// TestAWSSignerDoubleEncodedPathRejected signs with the signer's default
// (non-S3) path handling, which escapes the escaped path a second time.
// S3 does not double-encode, so neither does ferry.
func TestAWSSignerDoubleEncodedPathRejected(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	req, err := http.NewRequest(http.MethodGet, objectURL(t, h.srv.URL, "a b", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := v4.NewSigner().SignHTTP(context.Background(), awsCreds(testAK, testSecret), req, emptySHA256, "s3", "us-east-1", testTime); err != nil {
		t.Fatal(err)
	}
	h.do(req).wantErr(t, s3err.ErrSignatureDoesNotMatch)
}

func TestAWSSignerQueryCanonicalization(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	queries := []string{
		"list-type=2&prefix=a%20b%2Bc&delimiter=%2F",
		"uploads",
		"acl=&versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY%2BMTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
		"z=1&a=2&m=3&a=1",      // repeated key sorted by value
		"a-b=1&a%2Fb=2&a=3",    // sorted after encoding: a, a%2Fb, a-b
		"k=%E6%97%A5%E6%9C%AC", // unicode value
		"tagging&x-id=PutObjectTagging",
		"empty=&e2",
		"star=*&tilde=~&excl=!",
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, objectURL(t, h.srv.URL, "obj", q), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
			if err := s3Signer().SignHTTP(context.Background(), awsCreds(testAK, testSecret), req, emptySHA256, "s3", "us-east-1", testTime); err != nil {
				t.Fatal(err)
			}
			h.do(req).mustOK(t)
		})
	}
}

// TestAWSSignerTamper signs one valid request and changes one thing at a
// time; every change must be rejected with the right code.
func TestAWSSignerTamper(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	body := []byte("the quick brown fox jumps over the lazy dog")
	base := func(t *testing.T) *http.Request {
		return signedPut(t, objectURL(t, h.srv.URL, "dir/key.txt", "x-id=PutObject"), body, testAK, testSecret, "eu-west-3", testTime, map[string]string{
			"X-Amz-Meta-Color": "blue",
			"Content-Type":     "text/plain",
		})
	}
	// The untouched request is accepted.
	h.do(base(t)).mustOK(t)

	cases := []struct {
		name   string
		mutate func(*http.Request)
		want   *s3err.Error
	}{
		{"signed header changed", func(r *http.Request) { r.Header.Set("X-Amz-Meta-Color", "red") }, s3err.ErrSignatureDoesNotMatch},
		{"signed header removed", func(r *http.Request) { r.Header.Del("Content-Type") }, s3err.ErrSignatureDoesNotMatch},
		{"unsigned x-amz header added", func(r *http.Request) { r.Header.Set("X-Amz-Meta-Extra", "1") }, s3err.ErrAccessDenied},
		{"path changed", func(r *http.Request) { r.URL.Path = "/bucket/dir/key.txT"; r.URL.RawPath = "" }, s3err.ErrSignatureDoesNotMatch},
		{"bucket changed", func(r *http.Request) { r.URL.Path = "/bucket2/dir/key.txt"; r.URL.RawPath = "" }, s3err.ErrSignatureDoesNotMatch},
		{"query changed", func(r *http.Request) { r.URL.RawQuery = "x-id=PutObjects" }, s3err.ErrSignatureDoesNotMatch},
		{"query added", func(r *http.Request) { r.URL.RawQuery += "&versionId=1" }, s3err.ErrSignatureDoesNotMatch},
		{"method changed", func(r *http.Request) { r.Method = http.MethodPost }, s3err.ErrSignatureDoesNotMatch},
		{"host changed", func(r *http.Request) { r.Host = "evil.example" }, s3err.ErrSignatureDoesNotMatch},
		{"body byte changed", func(r *http.Request) {
			b := bytes.Clone(body)
			b[7] ^= 0x20
			r.Body, r.GetBody = nil, nil
			r.Body = nopCloser{bytes.NewReader(b)}
		}, s3err.ErrXAmzContentSHA256Mismatch},
		{"payload hash header changed", func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) }, s3err.ErrSignatureDoesNotMatch},
		{"payload hash header removed", func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, s3err.ErrInvalidRequest},
		{"date changed", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", testTime.Add(time.Second).Format(amzDateLayout))
		}, s3err.ErrSignatureDoesNotMatch},
		{"signature replaced", func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-64]+strings.Repeat("0", 64))
		}, s3err.ErrSignatureDoesNotMatch},
		{"region in scope changed", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/eu-west-3/", "/us-east-1/", 1))
		}, s3err.ErrSignatureDoesNotMatch},
		{"service in scope changed", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/s3/", "/s4/", 1))
		}, s3err.ErrAuthorizationHeaderMalformed},
		{"signed headers list shortened", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;", "", 1))
		}, s3err.ErrSignatureDoesNotMatch},
		{"session token added", func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") }, s3err.ErrInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := base(t)
			tc.mutate(req)
			if req.Body != nil {
				// Keep Content-Length consistent with the body we send.
				req.ContentLength = int64(len(body))
			}
			h.do(req).wantErr(t, tc.want)
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		req := signedPut(t, objectURL(t, h.srv.URL, "k", ""), body, testAK, otherSK, "us-east-1", testTime, nil)
		h.do(req).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("unknown access key", func(t *testing.T) {
		req := signedPut(t, objectURL(t, h.srv.URL, "k", ""), body, "AKIAUNKNOWN", testSecret, "us-east-1", testTime, nil)
		h.do(req).wantErr(t, s3err.ErrInvalidAccessKeyID)
	})
	t.Run("second user", func(t *testing.T) {
		req := signedPut(t, objectURL(t, h.srv.URL, "k", ""), body, otherAK, otherSK, "us-east-1", testTime, nil)
		if o := h.do(req).mustOK(t); o.res.Principal != "user:bob" {
			t.Fatalf("principal %q", o.res.Principal)
		}
	})
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestAWSSignerClockSkew(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	body := []byte("x")
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true},
		{14*time.Minute + 59*time.Second, true},
		{-14*time.Minute - 59*time.Second, true},
		{15*time.Minute + time.Second, false},
		{-15*time.Minute - time.Second, false},
		{48 * time.Hour, false},
	} {
		clock.Set(testTime.Add(tc.offset))
		o := h.do(signedPut(t, objectURL(t, h.srv.URL, "k", ""), body, testAK, testSecret, "us-east-1", testTime, nil))
		if tc.ok {
			o.mustOK(t)
		} else {
			o.wantErr(t, s3err.ErrRequestTimeTooSkewed)
		}
	}
}

func TestAWSSignerStrictRegion(t *testing.T) {
	clock := newFakeClock(testTime)
	loose := newHarness(t, testVerifier(t, clock), false)
	strict := newHarness(t, testVerifier(t, clock, func(c *Config) { c.Region = "eu-central-1"; c.StrictRegion = true }), false)
	body := []byte("region test")
	// Any region verifies by default, with the region the client used.
	o := loose.do(signedPut(t, objectURL(t, loose.srv.URL, "k", ""), body, testAK, testSecret, "ap-southeast-2", testTime, nil)).mustOK(t)
	if o.res.Region != "ap-southeast-2" {
		t.Fatalf("region %q", o.res.Region)
	}
	strict.do(signedPut(t, objectURL(t, strict.srv.URL, "k", ""), body, testAK, testSecret, "eu-central-1", testTime, nil)).mustOK(t)
	strict.do(signedPut(t, objectURL(t, strict.srv.URL, "k", ""), body, testAK, testSecret, "us-east-1", testTime, nil)).wantErr(t, s3err.ErrAuthorizationHeaderMalformed)
}

func TestAWSSignerUnsignedPayload(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	body := bytes.Repeat([]byte("unsigned "), 1000)
	req, err := http.NewRequest(http.MethodPut, objectURL(t, h.srv.URL, "u", ""), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	if err := s3Signer().SignHTTP(context.Background(), awsCreds(testAK, testSecret), req, UnsignedPayload, "s3", "us-east-1", testTime); err != nil {
		t.Fatal(err)
	}
	o := h.do(req).mustOK(t)
	if !bytes.Equal(o.data, body) || o.res.PayloadHash != UnsignedPayload {
		t.Fatalf("payload %q, %d bytes", o.res.PayloadHash, len(o.data))
	}
}

// presign returns a presigned URL made by the SDK signer and the headers
// it signed.
func presign(t testing.TB, method, u string, expires time.Duration, hdr http.Header, at time.Time, payloadHash string) (string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	req.URL.RawQuery = q.Encode()
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	signed, sh, err := s3Signer().PresignHTTP(context.Background(), awsCreds(testAK, testSecret), req, payloadHash, "s3", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return signed, sh
}

func TestAWSSignerPresign(t *testing.T) {
	clock := newFakeClock(testTime)
	h := newHarness(t, testVerifier(t, clock), false)
	send := func(method, signed string, sh http.Header, body []byte) outcome {
		req, err := http.NewRequest(method, signed, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range sh {
			if k != "Host" {
				req.Header[k] = vs
			}
		}
		return h.do(req)
	}

	t.Run("GET odd keys", func(t *testing.T) {
		clock.Set(testTime)
		for _, key := range oddKeys {
			signed, sh := presign(t, http.MethodGet, objectURL(t, h.srv.URL, key, "response-content-type=text%2Fplain"), time.Hour, nil, testTime, UnsignedPayload)
			o := send(http.MethodGet, signed, sh, nil).mustOK(t)
			if !o.res.Presigned || o.res.Principal != "user:alice" {
				t.Fatalf("%q: result %+v", key, o.res)
			}
		}
	})
	t.Run("PUT with signed headers and a hoisted parameter", func(t *testing.T) {
		clock.Set(testTime.Add(30 * time.Minute))
		hdr := http.Header{"Content-Type": {"image/png"}, "X-Amz-Meta-Foo": {"bar"}, "X-Amz-Expected-Bucket-Owner": {"123456789012"}}
		signed, sh := presign(t, http.MethodPut, objectURL(t, h.srv.URL, "up load.png", ""), time.Hour, hdr, testTime, UnsignedPayload)
		if !strings.Contains(signed, "x-amz-expected-bucket-owner=123456789012") || sh.Get("X-Amz-Meta-Foo") != "bar" {
			t.Fatalf("expected-bucket-owner not hoisted into the query or metadata not signed: %s %v", signed, sh)
		}
		body := []byte("\x89PNG...")
		o := send(http.MethodPut, signed, sh, body).mustOK(t)
		if !bytes.Equal(o.data, body) {
			t.Fatalf("body %q", o.data)
		}
		// The same URL with a different Content-Type is refused.
		sh2 := sh.Clone()
		sh2.Set("Content-Type", "text/html")
		send(http.MethodPut, signed, sh2, body).wantErr(t, s3err.ErrSignatureDoesNotMatch)
	})
	t.Run("PUT with a signed payload hash", func(t *testing.T) {
		clock.Set(testTime)
		body := []byte("integrity matters")
		hdr := http.Header{"X-Amz-Content-Sha256": {sha256hex(body)}}
		signed, sh := presign(t, http.MethodPut, objectURL(t, h.srv.URL, "h", ""), time.Hour, hdr, testTime, sha256hex(body))
		send(http.MethodPut, signed, sh, body).mustOK(t)
		send(http.MethodPut, signed, sh, []byte("integrity mattërs")).wantErr(t, s3err.ErrXAmzContentSHA256Mismatch)
	})
	t.Run("expiry", func(t *testing.T) {
		signed, sh := presign(t, http.MethodGet, objectURL(t, h.srv.URL, "e", ""), 10*time.Minute, nil, testTime, UnsignedPayload)
		clock.Set(testTime.Add(10 * time.Minute))
		send(http.MethodGet, signed, sh, nil).mustOK(t)
		clock.Set(testTime.Add(10*time.Minute + time.Second))
		o := send(http.MethodGet, signed, sh, nil)
		o.wantErr(t, s3err.ErrAccessDenied)
		if !strings.Contains(s3err.As(o.err()).Message, "Request has expired") {
			t.Fatalf("message %q", s3err.As(o.err()).Message)
		}
		clock.Set(testTime.Add(-16 * time.Minute))
		send(http.MethodGet, signed, sh, nil).wantErr(t, s3err.ErrAccessDenied) // not valid yet
	})
	t.Run("expires longer than a week", func(t *testing.T) {
		clock.Set(testTime)
		signed, sh := presign(t, http.MethodGet, objectURL(t, h.srv.URL, "w", ""), 7*24*time.Hour, nil, testTime, UnsignedPayload)
		send(http.MethodGet, signed, sh, nil).mustOK(t)
		signed, sh = presign(t, http.MethodGet, objectURL(t, h.srv.URL, "w", ""), 7*24*time.Hour+time.Second, nil, testTime, UnsignedPayload)
		send(http.MethodGet, signed, sh, nil).wantErr(t, s3err.ErrAuthorizationQueryParamsError)
	})
	t.Run("tampered", func(t *testing.T) {
		clock.Set(testTime)
		signed, sh := presign(t, http.MethodGet, objectURL(t, h.srv.URL, "t", "versionId=7"), time.Hour, nil, testTime, UnsignedPayload)
		for name, mutate := range map[string]func(string) string{
			"query value": func(s string) string { return strings.Replace(s, "versionId=7", "versionId=8", 1) },
			"path":        func(s string) string { return strings.Replace(s, "/bucket/t?", "/bucket/u?", 1) },
			"expires":     func(s string) string { return strings.Replace(s, "X-Amz-Expires=3600", "X-Amz-Expires=3601", 1) },
			"extra param": func(s string) string { return s + "&acl" },
			"signature": func(s string) string {
				return s[:len(s)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", s[len(s)-1])+1)%16])
			},
		} {
			t.Run(name, func(t *testing.T) {
				send(http.MethodGet, mutate(signed), sh, nil).wantErr(t, s3err.ErrSignatureDoesNotMatch)
			})
		}
		// An unsigned x-amz-* header next to a presigned URL.
		sh2 := sh.Clone()
		sh2.Set("X-Amz-Meta-Evil", "1")
		send(http.MethodGet, signed, sh2, nil).wantErr(t, s3err.ErrAccessDenied)
		// A presigned URL that also carries an Authorization header.
		sh3 := sh.Clone()
		sh3.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		send(http.MethodGet, signed, sh3, nil).wantErr(t, s3err.ErrInvalidArgument)
		// A repeated X-Amz-Signature.
		send(http.MethodGet, signed+"&X-Amz-Signature="+strings.Repeat("a", 64), sh, nil).wantErr(t, s3err.ErrAuthorizationQueryParamsError)
	})
}
