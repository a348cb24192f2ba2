package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// The known-answer tests use the worked examples of the S3 API reference
// ("Signature Calculations for the Authorization Header" and "Authenticating
// Requests: Using Query Parameters"), whose signatures were computed by AWS.

const (
	awsExampleAK     = "AKIAIOSFODNN7EXAMPLE"
	awsExampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var awsExampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func awsExampleVerifier(t *testing.T, at time.Time) *Verifier {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Lookup = func(ak string) (string, string, error) {
		if ak != awsExampleAK {
			return "", "", s3err.ErrInvalidAccessKeyID
		}
		return awsExampleSecret, "example", nil
	}
	cfg.Now = func() time.Time { return at }
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestKnownAnswerHeaderExamples(t *testing.T) {
	cases := []struct {
		name    string
		method  string
		url     string
		headers [][2]string
		body    string
		signed  string
		sig     string
	}{
		{
			name:   "GET object with Range",
			method: "GET", url: "http://examplebucket.s3.amazonaws.com/test.txt",
			headers: [][2]string{{"Range", "bytes=0-9"}, {"X-Amz-Content-Sha256", emptySHA256}, {"X-Amz-Date", "20130524T000000Z"}},
			signed:  "host;range;x-amz-content-sha256;x-amz-date",
			sig:     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:   "PUT object with $ in the key and a Date header",
			method: "PUT", url: "http://examplebucket.s3.amazonaws.com/test%24file.text",
			headers: [][2]string{
				{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
				{"X-Amz-Date", "20130524T000000Z"},
				{"X-Amz-Storage-Class", "REDUCED_REDUNDANCY"},
				{"X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
			},
			body:   "Welcome to Amazon S3.",
			signed: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			sig:    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name:   "GET bucket lifecycle (subresource without value)",
			method: "GET", url: "http://examplebucket.s3.amazonaws.com/?lifecycle",
			headers: [][2]string{{"X-Amz-Date", "20130524T000000Z"}, {"X-Amz-Content-Sha256", emptySHA256}},
			signed:  "host;x-amz-content-sha256;x-amz-date",
			sig:     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name:   "list objects (sorted query)",
			method: "GET", url: "http://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			headers: [][2]string{{"X-Amz-Date", "20130524T000000Z"}, {"X-Amz-Content-Sha256", emptySHA256}},
			signed:  "host;x-amz-content-sha256;x-amz-date",
			sig:     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := awsExampleVerifier(t, awsExampleTime.Add(time.Minute))
			mk := func(sig string) *http.Request {
				r := httptest.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
				for _, h := range tc.headers {
					r.Header.Set(h[0], h[1])
				}
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+awsExampleAK+"/20130524/us-east-1/s3/aws4_request,SignedHeaders="+tc.signed+",Signature="+sig)
				return r
			}
			res, err := v.Verify(mk(tc.sig))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := io.ReadAll(res.Body)
			if err != nil || string(got) != tc.body {
				t.Fatalf("body %q, %v", got, err)
			}
			if res.AccessKey != awsExampleAK || res.Principal != "example" || res.Region != "us-east-1" || !res.SignedAt.Equal(awsExampleTime) {
				t.Fatalf("result %+v", res)
			}
			// One changed hex digit must fail.
			bad := []byte(tc.sig)
			bad[10] ^= 1
			if _, err := v.Verify(mk(string(bad))); !errors.Is(err, s3err.ErrSignatureDoesNotMatch) {
				t.Fatalf("tampered signature: %v", err)
			}
		})
	}
}

func TestKnownAnswerPresignedExample(t *testing.T) {
	const u = "http://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	v := awsExampleVerifier(t, awsExampleTime.Add(time.Hour))
	res, err := v.Verify(httptest.NewRequest("GET", u, nil))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !res.Presigned || res.PayloadHash != UnsignedPayload || !res.Expires.Equal(awsExampleTime.Add(24*time.Hour)) {
		t.Fatalf("result %+v", res)
	}
	// The same URL a second after it expires.
	v = awsExampleVerifier(t, awsExampleTime.Add(24*time.Hour+time.Second))
	_, err = v.Verify(httptest.NewRequest("GET", u, nil))
	if !errors.Is(err, s3err.ErrAccessDenied) || !strings.Contains(s3err.As(err).Message, "expired") {
		t.Fatalf("expired URL: %v", err)
	}
}

// TestKnownAnswerStreamingExample decodes the S3 reference's chunked upload
// example: 65 KiB of 'a' in a 64 KiB chunk, a 1 KiB chunk and the final
// chunk, with the signatures AWS published.
func TestKnownAnswerStreamingExample(t *testing.T) {
	const (
		seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
		sig1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
		sig2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
		sig3 = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	)
	encode := func(s1, s2, s3 string, data2 []byte) []byte {
		var b bytes.Buffer
		b.WriteString("10000;chunk-signature=" + s1 + "\r\n")
		b.Write(bytes.Repeat([]byte{'a'}, 65536))
		b.WriteString("\r\n400;chunk-signature=" + s2 + "\r\n")
		b.Write(data2)
		b.WriteString("\r\n0;chunk-signature=" + s3 + "\r\n\r\n")
		return b.Bytes()
	}
	mk := func(body []byte) *http.Request {
		r := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
		r.Header.Set("X-Amz-Date", "20130524T000000Z")
		r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
		r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
		r.Header.Set("Content-Encoding", "aws-chunked")
		r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
		r.Header.Set("Content-Length", "66824")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+seed)
		return r
	}
	data2 := bytes.Repeat([]byte{'a'}, 1024)
	body := encode(sig1, sig2, sig3, data2)
	if len(body) != 66824 {
		t.Fatalf("encoded length %d", len(body))
	}
	v := awsExampleVerifier(t, awsExampleTime)
	res, err := v.Verify(mk(body))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	if len(got) != 66560 || bytes.Count(got, []byte{'a'}) != 66560 || res.DecodedLength != 66560 || res.ContentEncoding != "" {
		t.Fatalf("decoded %d bytes, DecodedLength %d, ContentEncoding %q", len(got), res.DecodedLength, res.ContentEncoding)
	}

	// A changed byte in the second chunk: the first chunk is released, the
	// second never is.
	data2[500] = 'b'
	res, err = v.Verify(mk(encode(sig1, sig2, sig3, data2)))
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(res.Body)
	if !errors.Is(err, s3err.ErrSignatureDoesNotMatch) {
		t.Fatalf("tampered chunk: %v", err)
	}
	if len(got) != 65536 {
		t.Fatalf("released %d bytes, want only the verified first chunk", len(got))
	}
}
