package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// signedRequest sends a request signed with the test key (or secret) and
// returns the status and S3 error code.
func signedRequest(t *testing.T, endpoint, method, path, query string, body []byte, header http.Header, secret string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = query
	for k, vs := range header {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e s3err.Body
	code := ""
	if resp.StatusCode >= 300 {
		if xerr := xmlUnmarshal(b, &e); xerr == nil {
			code = e.Code
		}
		if resp.Header.Get("x-amz-request-id") == "" {
			t.Errorf("%s %s: error without a request id", method, path)
		}
	}
	return resp.StatusCode, code
}

// TestBadRequestsGetS3Errors: malformed input gets the S3 error clients
// expect, and nothing is written.
func TestBadRequestsGetS3Errors(t *testing.T) {
	s := newSite(t, 1)
	ep := s.gateways[0].Addr()
	ctx := ctxT(t)
	c := s.aws(0, testSecretKey)
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("good")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, query string
		body                      []byte
		header                    http.Header
		secret                    string
		status                    int
		code                      string
	}{
		{"bad bucket name", "PUT", "/Bad_Bucket", "", nil, nil, testSecretKey, 400, "InvalidBucketName"},
		{"ip bucket name", "PUT", "/192.168.1.1", "", nil, nil, testSecretKey, 400, "InvalidBucketName"},
		{"dot-dot key", "PUT", "/good/a/../b", "", []byte("x"), nil, testSecretKey, 400, "InvalidArgument"},
		{"key too long", "PUT", "/good/" + strings.Repeat("k", 1025), "", []byte("x"), nil, testSecretKey, 400, "KeyTooLongError"},
		{"malformed create xml", "PUT", "/newbucket", "", []byte("<CreateBucketConfiguration><Loc"), nil, testSecretKey, 400, "MalformedXML"},
		{"malformed delete xml", "POST", "/good", "delete=", []byte("<Delete><Object>"), http.Header{"Content-Md5": {"1B2M2Y8AsgTpgAmY7PhCfg=="}}, testSecretKey, 400, "BadDigest"},
		{"wrong secret", "GET", "/", "", nil, nil, "not-the-secret-0123456789", 403, "SignatureDoesNotMatch"},
		{"bad content-md5", "PUT", "/good/k", "", []byte("hello"), http.Header{"Content-Md5": {"AAAAAAAAAAAAAAAAAAAAAA=="}}, testSecretKey, 400, "BadDigest"},
		{"malformed content-md5", "PUT", "/good/k", "", []byte("hello"), http.Header{"Content-Md5": {"not base64"}}, testSecretKey, 400, "InvalidDigest"},
		{"bad range", "GET", "/good/absent", "", nil, http.Header{"Range": {"bytes=5-1"}}, testSecretKey, 404, "NoSuchKey"},
		{"unsupported subresource", "GET", "/good", "website=", nil, nil, testSecretKey, 501, "NotImplemented"},
		{"max-keys negative", "GET", "/good", "list-type=2&max-keys=-1", nil, nil, testSecretKey, 400, "InvalidArgument"},
		{"bad continuation token", "GET", "/good", "list-type=2&continuation-token=%25%25", nil, nil, testSecretKey, 400, "InvalidArgument"},
		{"delete absent bucket", "DELETE", "/absent-bucket", "", nil, nil, testSecretKey, 404, "NoSuchBucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code := signedRequest(t, ep, tc.method, tc.path, tc.query, tc.body, tc.header, tc.secret)
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %s, want %d %s", status, code, tc.status, tc.code)
			}
		})
	}
	// Unsigned (anonymous) and expired requests.
	resp, err := http.Get("http://" + ep + "/good")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("anonymous list: %d", resp.StatusCode)
	}
	ps := awss3.NewPresignClient(c)
	pr, err := ps.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("good"), Key: aws.String("k")}, func(o *awss3.PresignOptions) {
		o.Expires = time.Second
		o.ClientOptions = append(o.ClientOptions, func(o *awss3.Options) {})
	})
	if err != nil {
		t.Fatal(err)
	}
	// A URL signed an hour ago with one second of validity: the signing
	// time and the credential scope's date move back together (the scope
	// date changes too when that crosses midnight).
	u, err := url.Parse(pr.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("presigned URL without a usable X-Amz-Date: %v", err)
	}
	earlier := signed.Add(-time.Hour)
	q.Set("X-Amz-Date", earlier.Format("20060102T150405Z"))
	q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), "/"+signed.Format("20060102")+"/", "/"+earlier.Format("20060102")+"/", 1))
	u.RawQuery = q.Encode()
	resp, err = http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != 403 || !bytes.Contains(body, []byte("Request has expired")) {
		t.Fatalf("expired presigned URL: %d %s (%v)", resp.StatusCode, body, err)
	}
	// Nothing of the refused writes exists.
	out, err := c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("good")})
	if err != nil || len(out.Contents) != 0 {
		t.Fatalf("refused writes left objects: %+v, %v", out.Contents, err)
	}
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("newbucket")}); err == nil {
		t.Fatal("a bucket with a malformed configuration was created")
	}
}

// TestLeaderKilledDuringUploads: uploads through the gateways of all three
// nodes go on while the leader stops; every upload acknowledged before or
// after is readable byte-identical afterwards.
func TestLeaderKilledDuringUploads(t *testing.T) {
	rng := seed(t)
	s := newSite(t, 3)
	ctx := ctxT(t)
	if _, err := s.aws(0, testSecretKey).CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("vault")}); err != nil {
		t.Fatal(err)
	}
	leader := s.c.WaitLeader()
	type ack struct {
		key string
		sum [32]byte
	}
	var (
		mu    sync.Mutex
		acked []ack
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	sizes := []int{100, 70 << 10, 1 << 20}
	for w := range 3 {
		if w == leader {
			continue // its gateway goes down with it
		}
		data := map[int][]byte{}
		for _, sz := range sizes {
			data[sz] = payload(rng, sz)
		}
		wg.Go(func() {
			c := s.aws(w, testSecretKey)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := data[sizes[i%len(sizes)]]
				body[0] = byte(i) // each upload distinct
				key := fmt.Sprintf("w%d/%05d", w, i)
				if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("vault"), Key: &key, Body: bytes.NewReader(body)}); err != nil {
					continue // not acknowledged: no promise made
				}
				mu.Lock()
				acked = append(acked, ack{key, sha256.Sum256(body)})
				mu.Unlock()
			}
		})
	}
	waitAcked := func(n int) {
		s.c.Eventually(time.Minute, fmt.Sprintf("%d acknowledged uploads", n), func() (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= n, nil
		})
	}
	waitAcked(10)
	s.c.Stop(leader)
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	waitAcked(before + 10) // a new leader takes writes
	close(stop)
	wg.Wait()
	reader := s.aws((leader+1)%3, testSecretKey)
	for _, a := range acked {
		got := getAll(t, ctx, reader, "vault", a.key, nil)
		if sha256.Sum256(got) != a.sum {
			t.Fatalf("%s: acknowledged upload reads back different bytes", a.key)
		}
	}
	t.Logf("%d uploads acknowledged, %d before the leader stopped", len(acked), before)
}

func xmlUnmarshal(b []byte, v any) error { return xml.Unmarshal(b, v) }
