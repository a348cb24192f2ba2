package sigv4

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// These tests drive the real aws-sdk-go-v2 S3 client against a server
// that verifies with this package: whatever the client chooses (payload
// hash over plain HTTP, aws-chunked with a trailing checksum over TLS,
// Content-MD5 for DeleteObjects, query parameters it escapes its own way)
// must verify.

func s3Client(h *harness) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(h.srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testAK, testSecret, ""),
		HTTPClient:   h.srv.Client(),
		Retryer:      aws.NopRetryer{},
		// What config.LoadDefaultConfig sets: a CRC32 checksum on every
		// upload unless another is asked for.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

func TestS3ClientPutObject(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "http"
		if tls {
			name = "https"
		}
		t.Run(name, func(t *testing.T) {
			// The SDK signs with the wall clock.
			clock := newFakeClock(time.Now())
			h := newHarness(t, testVerifier(t, clock), tls)
			c := s3Client(h)
			r := newRand(t)
			algs := []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
				types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256}
			for i, key := range oddKeys {
				alg := algs[i%len(algs)]
				data := make([]byte, r.IntN(200<<10))
				for j := range data {
					data[j] = byte(r.IntN(256))
				}
				_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket:            aws.String("bucket"),
					Key:               aws.String(key),
					Body:              bytes.NewReader(data),
					ChecksumAlgorithm: alg,
					Metadata:          map[string]string{"origin": "ferry test"},
				})
				o := h.next(err)
				if err != nil {
					t.Fatalf("PutObject(%q): %v (server: %v)", key, err, o.err())
				}
				o.mustOK(t)
				if !bytes.Equal(o.data, data) {
					t.Fatalf("%q: decoded %d bytes, want %d", key, len(o.data), len(data))
				}
				want := ChecksumAlgorithm(alg)
				if alg == "" {
					want = ChecksumCRC32 // the SDK's default
				}
				if o.spec.Algorithm != want {
					t.Fatalf("%q: checksum algorithm %q, want %q", key, o.spec.Algorithm, want)
				}
				if tls {
					if o.res.PayloadHash != StreamingUnsignedPayloadTrailer || !o.spec.InTrailer {
						t.Fatalf("%q: payload %q, spec %+v", key, o.res.PayloadHash, o.spec)
					}
					if got := o.trailer.Get(want.HeaderName()); got != o.sums[string(want)] {
						t.Fatalf("%q: trailer %v, computed %s", key, o.trailer, o.sums[string(want)])
					}
				} else if len(o.res.PayloadHash) != 64 || o.spec.Expected == nil {
					t.Fatalf("%q: payload %q, spec %+v", key, o.res.PayloadHash, o.spec)
				}
			}
		})
	}
}

func TestS3ClientRequests(t *testing.T) {
	clock := newFakeClock(time.Now())
	h := newHarness(t, testVerifier(t, clock), true)
	c := s3Client(h)
	ctx := context.Background()

	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:            aws.String("bucket"),
		Prefix:            aws.String("a b+c/ü&=?"),
		Delimiter:         aws.String("/"),
		StartAfter:        aws.String("~x%y"),
		ContinuationToken: aws.String("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
		MaxKeys:           aws.Int32(7),
	})
	h.next(err).mustOK(t)
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}

	out, err := c.GetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String("bucket"),
		Key:                        aws.String("dir/ünï code+key"),
		Range:                      aws.String("bytes=0-3"),
		VersionId:                  aws.String("3/L4kqtJl+cpXroDTDmJ=="),
		ResponseContentDisposition: aws.String(`attachment; filename="a b.txt"`),
	})
	h.next(err).mustOK(t)
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	_, _ = io.Copy(io.Discard, out.Body)
	out.Body.Close()

	_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String("bucket"),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b & c")}}},
	})
	o := h.next(err).mustOK(t)
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	if !bytes.Contains(o.data, []byte("<Key>b &amp; c</Key>")) {
		t.Fatalf("DeleteObjects body %q", o.data)
	}

	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String("gone/now")})
	h.next(err).mustOK(t)
	if err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
}

func TestS3ClientWrongSecret(t *testing.T) {
	clock := newFakeClock(time.Now())
	h := newHarness(t, testVerifier(t, clock), true)
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(h.srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testAK, otherSK, ""),
		HTTPClient:   h.srv.Client(),
		Retryer:      aws.NopRetryer{},
	})
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("client error %v", err)
	}
	h.next(err).wantErr(t, s3err.ErrSignatureDoesNotMatch)
}

func TestS3ClientPresign(t *testing.T) {
	clock := newFakeClock(time.Now())
	h := newHarness(t, testVerifier(t, clock), true)
	pc := s3.NewPresignClient(s3Client(h))
	ctx := context.Background()
	send := func(method, u string, hdr http.Header, body []byte) outcome {
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			if k != "Host" {
				req.Header[k] = vs
			}
		}
		return h.do(req)
	}

	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("p/ré sumé.pdf")},
		s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if o := send(get.Method, get.URL, get.SignedHeader, nil).mustOK(t); !o.res.Presigned {
		t.Fatalf("result %+v", o.res)
	}

	body := []byte("presigned upload")
	sum := md5.Sum(body)
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("p/up+load"),
		ContentType: aws.String("text/plain"),
		ContentMD5:  aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}, s3.WithPresignExpires(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	o := send(put.Method, put.URL, put.SignedHeader, body).mustOK(t)
	if !bytes.Equal(o.data, body) || o.spec.ContentMD5 == nil {
		t.Fatalf("data %q spec %+v", o.data, o.spec)
	}
	// A body that does not match the signed Content-MD5.
	send(put.Method, put.URL, put.SignedHeader, []byte("presigned uploaD")).wantErr(t, s3err.ErrBadDigest)

	clock.Advance(time.Hour + time.Minute)
	send(put.Method, put.URL, put.SignedHeader, body).wantErr(t, s3err.ErrAccessDenied)
}
