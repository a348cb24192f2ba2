package s3_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferrydr/ferry/gateways/s3"
)

// TestLifecycleWorker: with the worker's clock moved past the rules'
// periods, one pass expires matching current objects (a marker in a
// versioned bucket), removes old noncurrent versions and expired delete
// markers, aborts stale uploads, and leaves everything else (and locked
// versions) in place. A pass before the periods end does nothing.
func TestLifecycleWorker(t *testing.T) {
	s := newSite(t, 1)
	ctx := ctxT(t)
	c := s.aws(0, testSecretKey)
	put := func(bucket, key, body, tagging string) {
		t.Helper()
		in := &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}
		if tagging != "" {
			in.Tagging = aws.String(tagging)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"plain", "versions"} {
		if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketVersioning(ctx, &awss3.PutBucketVersioningInput{Bucket: aws.String("versions"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put("plain", "logs/old", "x", "")
	put("plain", "logs/tagged", "x", "keep=yes")
	put("plain", "data/kept", "x", "")
	put("versions", "doc", "v1", "")
	put("versions", "doc", "v2", "")
	put("versions", "gone", "g1", "")
	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("versions"), Key: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("plain"), Key: aws.String("logs/partial")}); err != nil {
		t.Fatal(err)
	}
	days := func(n int32) *int32 { return aws.Int32(n) }
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &awss3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("plain"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("logs"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
			Expiration: &s3types.LifecycleExpiration{Days: days(30)}, AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: days(1)},
		}, {
			// A disabled rule does nothing.
			ID: aws.String("disabled"), Status: s3types.ExpirationStatusDisabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("data/")},
			Expiration: &s3types.LifecycleExpiration{Days: days(1)},
		}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &awss3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("versions"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("noncurrent"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: days(7)},
		}, {
			ID: aws.String("markers"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)},
		}}}}); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	worker := func(at time.Time) s3.LifecycleReport {
		t.Helper()
		w := s3.NewLifecycle(s.c.Nodes[0], s3.LifecycleConfig{Now: func() time.Time { return at }})
		rep, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := worker(now); rep != (s3.LifecycleReport{}) {
		t.Fatalf("a pass before any period ended did %+v", rep)
	}
	// 40 days on: logs/old and logs/tagged expire, data/kept stays (its
	// rule is disabled), the upload is aborted; doc's v1 is
	// removed; gone's g1 is removed, which leaves its marker expired,
	// removed in the same pass.
	rep := worker(now.Add(40 * 24 * time.Hour))
	want := s3.LifecycleReport{Expired: 2, UploadsAborted: 1, NoncurrentRemoved: 2, MarkersRemoved: 1}
	if rep != want {
		t.Fatalf("pass did %+v, want %+v", rep, want)
	}
	l, err := c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("plain")})
	if err != nil || len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "data/kept" {
		t.Fatalf("plain after the pass: %+v, %v", l.Contents, err)
	}
	v, err := c.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String("versions")})
	if err != nil || len(v.Versions) != 1 || len(v.DeleteMarkers) != 0 || aws.ToString(v.Versions[0].Key) != "doc" {
		t.Fatalf("versions after the pass: %+v, %+v, %v", v.Versions, v.DeleteMarkers, err)
	}
	if u, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String("plain")}); err != nil || len(u.Uploads) != 0 {
		t.Fatalf("uploads after the pass: %+v, %v", u, err)
	}
	// A second pass finds nothing left to do.
	if rep := worker(now.Add(41 * 24 * time.Hour)); rep != (s3.LifecycleReport{}) {
		t.Fatalf("second pass did %+v", rep)
	}
}
