package s3_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/ferrydr/ferry/gateways/s3"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/raftstoretest"
)

var seedFlag = flag.Int64("s3.seed", 0, "seed for randomized tests (0: time)")

func seed(t *testing.T) *rand.Rand {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -s3.seed=%d)", s, s)
	return rand.New(rand.NewPCG(uint64(s), 0x53))
}

const (
	testAccessKey = "FKTESTACCESSKEY00001"
	testSecretKey = "test-secret-key-of-forty-characters-0001"
)

// site is a ferry site with a gateway on every node.
type site struct {
	c        *raftstoretest.Cluster
	gateways []*s3.Server
}

func newSite(t *testing.T, nodes int) *site {
	t.Helper()
	c := raftstoretest.New(t, raftstoretest.Options{Nodes: nodes, DisksPerNode: 6 / nodes})
	c.WaitReady()
	s := &site{c: c}
	for _, n := range c.Nodes {
		cfg := s3.DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		cfg.Lookup = func(_ context.Context, ak string) (string, string, error) {
			if ak == testAccessKey {
				return testSecretKey, "tester", nil
			}
			return "", "", fmt.Errorf("access key %s: %w", ak, raftstore.ErrNotFound)
		}
		g, err := s3.New(n, cfg)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := s3.Listen(g)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := srv.Close(); err != nil {
				t.Error(err)
			}
		})
		s.gateways = append(s.gateways, srv)
	}
	return s
}

func (s *site) aws(i int, secret string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + s.gateways[i].Addr()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, secret, ""),
		// Every request is answered for real; the test wants to see errors.
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

func (s *site) minio(t *testing.T, i int) *minio.Client {
	t.Helper()
	mc, err := minio.New(s.gateways[i].Addr(), &minio.Options{
		Creds: miniocreds.NewStaticV4(testAccessKey, testSecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func payload(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// apiCode returns the S3 error code of err ("" when it is not an API error).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func getAll(t *testing.T, ctx context.Context, c *awss3.Client, bucket, key string, rng *string) []byte {
	t.Helper()
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &key, Range: rng})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get %s/%s: read: %v", bucket, key, err)
	}
	return b
}

// TestObjectsWithAWSSDK drives every operation the gateway serves with
// aws-sdk-go-v2 against a one-node and a three-node site (writes through
// every node's gateway).
func TestObjectsWithAWSSDK(t *testing.T) {
	for _, nodes := range []int{1, 3} {
		t.Run(fmt.Sprintf("nodes=%d", nodes), func(t *testing.T) {
			rng := seed(t)
			s := newSite(t, nodes)
			ctx := ctxT(t)
			c := s.aws(0, testSecretKey)
			bucket := "ledger-" + fmt.Sprint(nodes)
			if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &bucket}); apiCode(err) != "BucketAlreadyOwnedByYou" {
				t.Fatalf("second create: %v", err)
			}
			if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			lb, err := c.ListBuckets(ctx, &awss3.ListBucketsInput{})
			if err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != bucket {
				t.Fatalf("list buckets: %+v, %v", lb, err)
			}
			loc, err := c.GetBucketLocation(ctx, &awss3.GetBucketLocationInput{Bucket: &bucket})
			if err != nil || loc.LocationConstraint != "" {
				t.Fatalf("location: %+v, %v", loc, err)
			}

			// Objects of sizes around the inline limit and across stripes,
			// each written through another node.
			want := map[string][]byte{}
			for i, size := range []int{0, 1, 1000, 64 << 10, 64<<10 + 1, 5<<20 + 7} {
				key := fmt.Sprintf("docs/%d/obj-%d", i%2, size)
				data := payload(rng, size)
				w := s.aws(i%nodes, testSecretKey)
				out, err := w.PutObject(ctx, &awss3.PutObjectInput{
					Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentType: aws.String("application/x-test"),
					Metadata: map[string]string{"origin": "branch-7"}, CacheControl: aws.String("no-store"),
				})
				if err != nil {
					t.Fatalf("put %d bytes: %v", size, err)
				}
				sum := md5.Sum(data)
				if got := strings.Trim(*out.ETag, `"`); got != fmt.Sprintf("%x", sum) {
					t.Fatalf("put %d bytes: ETag %s, want the MD5 %x", size, got, sum)
				}
				want[key] = data
			}
			for key, data := range want {
				r := s.aws(rng.IntN(nodes), testSecretKey)
				if got := getAll(t, ctx, r, bucket, key, nil); !bytes.Equal(got, data) {
					t.Fatalf("get %s: %d bytes, want %d", key, len(got), len(data))
				}
				h, err := r.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: &key})
				if err != nil {
					t.Fatal(err)
				}
				if *h.ContentLength != int64(len(data)) || *h.ContentType != "application/x-test" || h.Metadata["origin"] != "branch-7" || *h.CacheControl != "no-store" {
					t.Fatalf("head %s: %+v", key, h)
				}
				if len(data) > 10 {
					lo := rng.IntN(len(data) - 5)
					hi := lo + rng.IntN(len(data)-lo)
					if got := getAll(t, ctx, r, bucket, key, aws.String(fmt.Sprintf("bytes=%d-%d", lo, hi))); !bytes.Equal(got, data[lo:hi+1]) {
						t.Fatalf("range %d-%d of %s: wrong bytes", lo, hi, key)
					}
				}
			}
			big := "docs/1/obj-5242887"
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &big, Range: aws.String("bytes=99999999-")}); apiCode(err) != "InvalidRange" {
				t.Fatalf("range past the end: %v", err)
			}
			// Conditional requests.
			h, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: &big})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &big, IfNoneMatch: h.ETag}); !isStatus(err, http.StatusNotModified) {
				t.Fatalf("If-None-Match with the current ETag: %v", err)
			}
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &big, IfMatch: aws.String(`"0123"`)}); apiCode(err) != "PreconditionFailed" {
				t.Fatalf("If-Match with another ETag: %v", err)
			}
			if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &big, Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); apiCode(err) != "PreconditionFailed" {
				t.Fatalf("create-only put over an existing key: %v", err)
			}

			// Listing with prefix and delimiter, paged.
			var keys, prefixes []string
			p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("docs/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					keys = append(keys, *o.Key)
				}
				for _, cp := range page.CommonPrefixes {
					prefixes = append(prefixes, *cp.Prefix)
				}
			}
			if len(keys) != 0 || !slices.Equal(prefixes, []string{"docs/0/", "docs/1/"}) {
				t.Fatalf("delimited listing: keys %v prefixes %v", keys, prefixes)
			}
			keys = nil
			p = awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("docs/1/"), MaxKeys: aws.Int32(2)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					keys = append(keys, *o.Key)
				}
			}
			if !slices.Equal(keys, []string{"docs/1/obj-1", "docs/1/obj-5242887", "docs/1/obj-65536"}) {
				t.Fatalf("paged listing: %v", keys)
			}
			v1, err := c.ListObjects(ctx, &awss3.ListObjectsInput{Bucket: &bucket, Prefix: aws.String("docs/0/"), MaxKeys: aws.Int32(2)})
			if err != nil || len(v1.Contents) != 2 || !*v1.IsTruncated {
				t.Fatalf("list v1: %+v, %v", v1, err)
			}

			// Copy with replaced metadata.
			if _, err := c.CopyObject(ctx, &awss3.CopyObjectInput{
				Bucket: &bucket, Key: aws.String("copies/big"), CopySource: aws.String(bucket + "/" + big),
				MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"copied": "yes"},
			}); err != nil {
				t.Fatal(err)
			}
			if got := getAll(t, ctx, c, bucket, "copies/big", nil); !bytes.Equal(got, want[big]) {
				t.Fatal("copy has other bytes")
			}
			ch, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: aws.String("copies/big")})
			if err != nil || ch.Metadata["copied"] != "yes" || ch.Metadata["origin"] != "" {
				t.Fatalf("copy metadata: %+v, %v", ch.Metadata, err)
			}

			// Errors.
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: aws.String("absent")}); apiCode(err) != "NoSuchKey" {
				t.Fatalf("absent key: %v", err)
			}
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")}); apiCode(err) != "NoSuchBucket" {
				t.Fatalf("absent bucket: %v", err)
			}
			if _, err := s.aws(0, "wrong-secret").ListBuckets(ctx, &awss3.ListBucketsInput{}); apiCode(err) != "SignatureDoesNotMatch" {
				t.Fatalf("wrong secret: %v", err)
			}
			bad := md5.Sum([]byte("other bytes"))
			if _, err := c.PutObject(ctx, &awss3.PutObjectInput{
				Bucket: &bucket, Key: aws.String("bad-digest"), Body: strings.NewReader("these bytes"),
				ContentMD5: aws.String(base64.StdEncoding.EncodeToString(bad[:])),
			}); apiCode(err) != "BadDigest" {
				t.Fatalf("wrong Content-MD5: %v", err)
			}
			if _, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: aws.String("bad-digest")}); err == nil {
				t.Fatal("an object whose digest failed was stored")
			}
			if _, err := c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: &bucket}); apiCode(err) != "BucketNotEmpty" {
				t.Fatalf("delete non-empty bucket: %v", err)
			}

			// Delete: one, then the rest in one request.
			if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("copies/big")}); err != nil {
				t.Fatal(err)
			}
			var ids []s3types.ObjectIdentifier
			for key := range want {
				ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(key)})
			}
			ids = append(ids, s3types.ObjectIdentifier{Key: aws.String("never-existed")})
			dr, err := c.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: ids}})
			if err != nil || len(dr.Errors) != 0 || len(dr.Deleted) != len(ids) {
				t.Fatalf("delete objects: %+v, %v", dr, err)
			}
			if _, err := c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: &bucket}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &bucket}); !isStatus(err, http.StatusNotFound) {
				t.Fatalf("head of a deleted bucket: %v", err)
			}
		})
	}
}

func isStatus(err error, status int) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == status
}

// TestObjectsWithMinioSDK: minio-go, which signs streaming uploads with
// aws-chunked chunk signatures, puts, lists and reads back.
func TestObjectsWithMinioSDK(t *testing.T) {
	rng := seed(t)
	s := newSite(t, 1)
	ctx := ctxT(t)
	mc := s.minio(t, 0)
	if err := mc.MakeBucket(ctx, "vault", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i, size := range []int{10, 100 << 10, 3<<20 + 1} {
		key := fmt.Sprintf("a/b%d", i)
		data := payload(rng, size)
		if _, err := mc.PutObject(ctx, "vault", key, bytes.NewReader(data), int64(size), minio.PutObjectOptions{
			ContentType: "text/plain", UserMetadata: map[string]string{"k": "v"}, DisableMultipart: true,
		}); err != nil {
			t.Fatalf("put %d bytes: %v", size, err)
		}
		want[key] = data
	}
	var listed []string
	for o := range mc.ListObjects(ctx, "vault", minio.ListObjectsOptions{Prefix: "a/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		listed = append(listed, o.Key)
	}
	if len(listed) != len(want) {
		t.Fatalf("listed %v", listed)
	}
	for key, data := range want {
		obj, err := mc.GetObject(ctx, "vault", key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(obj)
		_ = obj.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get %s: %v", key, err)
		}
		st, err := mc.StatObject(ctx, "vault", key, minio.StatObjectOptions{})
		if err != nil || st.ContentType != "text/plain" || st.UserMetadata["K"] != "v" {
			t.Fatalf("stat %s: %+v, %v", key, st, err)
		}
	}
	if err := mc.RemoveObject(ctx, "vault", "a/b0", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.StatObject(ctx, "vault", "a/b0", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Fatalf("stat after delete: %v", err)
	}
}
