package s3api

// These tests run the real aws-sdk-go-v2 S3 client against an in-memory
// HTTPClient: the SDK's own deserializers parse what Marshal and the header
// writers produce, and the bodies and headers the SDK serializes are fed to
// this package's parsers. Nothing touches the network.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// fakeS3 answers every request with a canned response and records the last
// request and its body.
type fakeS3 struct {
	status  int
	header  http.Header
	body    []byte
	req     *http.Request
	reqBody []byte
}

func (f *fakeS3) Do(r *http.Request) (*http.Response, error) {
	f.reqBody = nil
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		f.reqBody = b
	}
	f.req = r
	h := f.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(f.body) > 0 && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/xml")
	}
	status := f.status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Header: h, Request: r,
		Body: io.NopCloser(bytes.NewReader(f.body)), ContentLength: int64(len(f.body)),
	}, nil
}

// respond sets the canned response to v marshalled.
func (f *fakeS3) respond(t *testing.T, v Response) {
	t.Helper()
	b, err := Marshal(v)
	checkErr(t, err, nil)
	f.status, f.header, f.body = http.StatusOK, nil, b
}

func newSDK(f *fakeS3) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                aws.AnonymousCredentials{},
		BaseEndpoint:               aws.String("http://ferry.test"),
		UsePathStyle:               true,
		HTTPClient:                 f,
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("SDK call: %v", err)
		}
		return v
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func TestSDKParsesBucketResponses(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{}
	c := newSDK(f)
	created := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)

	f.respond(t, ListAllMyBucketsResult{Owner: &Owner{ID: "owner", DisplayName: "me"},
		Buckets: []BucketInfo{{Name: "alpha", CreationDate: Timestamp(created)}, {Name: "beta", CreationDate: Timestamp(created), BucketRegion: "eu-west-1"}}})
	lb := must[*s3.ListBucketsOutput](t)(c.ListBuckets(ctx, &s3.ListBucketsInput{}))
	eq(t, "buckets", len(lb.Buckets), 2)
	eq(t, "name", *lb.Buckets[1].Name, "beta")
	eq(t, "region", *lb.Buckets[1].BucketRegion, "eu-west-1")
	eq(t, "created", lb.Buckets[0].CreationDate.Equal(created), true)
	eq(t, "owner", *lb.Owner.ID, "owner")

	f.respond(t, ListAllMyBucketsResult{Owner: &Owner{ID: "owner"}})
	lb = must[*s3.ListBucketsOutput](t)(c.ListBuckets(ctx, &s3.ListBucketsInput{}))
	eq(t, "no buckets", len(lb.Buckets), 0)

	f.respond(t, LocationConstraint{Region: "eu-west-1"})
	loc := must[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("b")}))
	eq(t, "location", loc.LocationConstraint, types.BucketLocationConstraintEuWest1)
	f.respond(t, LocationConstraint{})
	loc = must[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("b")}))
	eq(t, "us-east-1 location", loc.LocationConstraint, "")

	f.respond(t, VersioningConfiguration{Status: VersioningSuspended})
	v := must[*s3.GetBucketVersioningOutput](t)(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("b")}))
	eq(t, "versioning", v.Status, types.BucketVersioningStatusSuspended)
	f.respond(t, VersioningConfiguration{})
	v = must[*s3.GetBucketVersioningOutput](t)(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("b")}))
	eq(t, "never enabled", v.Status, "")

	f.respond(t, ObjectLockConfiguration{ObjectLockEnabled: ObjectLockEnabled, Rule: &ObjectLockRule{DefaultRetention: &DefaultRetention{Mode: Compliance, Days: ptr(7)}}})
	ol := must[*s3.GetObjectLockConfigurationOutput](t)(c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("b")}))
	eq(t, "lock enabled", ol.ObjectLockConfiguration.ObjectLockEnabled, types.ObjectLockEnabledEnabled)
	eq(t, "lock mode", ol.ObjectLockConfiguration.Rule.DefaultRetention.Mode, types.ObjectLockRetentionModeCompliance)
	eq(t, "lock days", *ol.ObjectLockConfiguration.Rule.DefaultRetention.Days, 7)

	date := Timestamp(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	f.respond(t, LifecycleConfiguration{Rules: []LifecycleRule{
		{ID: "logs", Filter: &LifecycleFilter{Prefix: ptr("logs/")}, Status: RuleEnabled, Expiration: &LifecycleExpiration{Days: ptr(30)}},
		{ID: "dated", Filter: &LifecycleFilter{And: &LifecycleAnd{Prefix: ptr("p/"), Tags: []Tag{{"a", "1"}, {"b", "2"}}}}, Status: RuleDisabled,
			Expiration: &LifecycleExpiration{Date: &date}, NoncurrentVersionExpiration: &NoncurrentVersionExpiration{NoncurrentDays: ptr(3), NewerNoncurrentVersions: ptr(2)}},
		{ID: "mpu", Prefix: ptr("tmp/"), Status: RuleEnabled, AbortIncompleteMultipartUpload: &AbortIncompleteMultipartUpload{DaysAfterInitiation: ptr(2)},
			Expiration: &LifecycleExpiration{ExpiredObjectDeleteMarker: ptr(true)}},
	}})
	lc := must[*s3.GetBucketLifecycleConfigurationOutput](t)(c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("b")}))
	eq(t, "rules", len(lc.Rules), 3)
	eq(t, "rule 0 prefix", *lc.Rules[0].Filter.Prefix, "logs/")
	eq(t, "rule 0 days", *lc.Rules[0].Expiration.Days, 30)
	eq(t, "rule 1 tags", len(lc.Rules[1].Filter.And.Tags), 2)
	eq(t, "rule 1 date", lc.Rules[1].Expiration.Date.Equal(date.Time()), true)
	eq(t, "rule 1 status", lc.Rules[1].Status, types.ExpirationStatusDisabled)
	eq(t, "rule 1 newer", *lc.Rules[1].NoncurrentVersionExpiration.NewerNoncurrentVersions, 2)
	eq(t, "rule 2 legacy prefix", *lc.Rules[2].Prefix, "tmp/")
	eq(t, "rule 2 abort", *lc.Rules[2].AbortIncompleteMultipartUpload.DaysAfterInitiation, 2)
	eq(t, "rule 2 marker", *lc.Rules[2].Expiration.ExpiredObjectDeleteMarker, true)
}

func TestSDKParsesObjectResponses(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{}
	c := newSDK(f)
	mod := time.Date(2024, 5, 6, 7, 8, 9, 10e6, time.UTC)

	f.respond(t, Tagging{TagSet: []Tag{{"k1", "v1"}, {"k 2", "v+2"}}})
	tg := must[*s3.GetObjectTaggingOutput](t)(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("b"), Key: aws.String("k")}))
	eq(t, "tags", len(tg.TagSet), 2)
	eq(t, "tag key", *tg.TagSet[1].Key, "k 2")
	eq(t, "tag value", *tg.TagSet[1].Value, "v+2")
	f.respond(t, Tagging{})
	tg = must[*s3.GetObjectTaggingOutput](t)(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("b"), Key: aws.String("k")}))
	eq(t, "no tags", len(tg.TagSet), 0)

	until := Timestamp(time.Date(2030, 1, 2, 3, 4, 5, 600e6, time.UTC))
	f.respond(t, Retention{Mode: Governance, RetainUntilDate: &until})
	ret := must[*s3.GetObjectRetentionOutput](t)(c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("b"), Key: aws.String("k")}))
	eq(t, "retention mode", ret.Retention.Mode, types.ObjectLockRetentionModeGovernance)
	eq(t, "retain until", ret.Retention.RetainUntilDate.Equal(until.Time()), true)

	f.respond(t, LegalHold{Status: LegalHoldOn})
	lh := must[*s3.GetObjectLegalHoldOutput](t)(c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("b"), Key: aws.String("k")}))
	eq(t, "legal hold", lh.LegalHold.Status, types.ObjectLockLegalHoldStatusOn)

	f.respond(t, CopyObjectResult{ETag: "9b2cf535f27731c974343645a3985328", LastModified: Timestamp(mod), Checksums: Checksums{ChecksumCRC32: "AAAAAA=="}})
	co := must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), CopySource: aws.String("src/k")}))
	eq(t, "copy etag", *co.CopyObjectResult.ETag, `"9b2cf535f27731c974343645a3985328"`)
	eq(t, "copy time", co.CopyObjectResult.LastModified.Equal(mod), true)
	eq(t, "copy crc", *co.CopyObjectResult.ChecksumCRC32, "AAAAAA==")

	f.respond(t, CopyPartResult{ETag: "abc", LastModified: Timestamp(mod)})
	cp := must[*s3.UploadPartCopyOutput](t)(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("b"), Key: aws.String("k"), CopySource: aws.String("src/k"), PartNumber: aws.Int32(1), UploadId: aws.String("u")}))
	eq(t, "part copy etag", *cp.CopyPartResult.ETag, `"abc"`)

	f.respond(t, DeleteResult{
		Deleted: []DeletedObject{{Key: "a"}, {Key: "b", DeleteMarker: true, DeleteMarkerVersionID: "dm1"}},
		Errors:  []DeleteError{NewDeleteError("c", "v", s3err.ErrAccessDenied)},
	})
	do := must[*s3.DeleteObjectsOutput](t)(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("b"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("a")}}}}))
	eq(t, "deleted", len(do.Deleted), 2)
	eq(t, "delete marker", *do.Deleted[1].DeleteMarker, true)
	eq(t, "delete marker version", *do.Deleted[1].DeleteMarkerVersionId, "dm1")
	eq(t, "errors", len(do.Errors), 1)
	eq(t, "error code", *do.Errors[0].Code, "AccessDenied")
	eq(t, "error version", *do.Errors[0].VersionId, "v")

	// GetObject/HeadObject headers written by this package.
	h := http.Header{}
	ObjectMeta{ContentType: "text/plain", CacheControl: "no-store", StorageClass: StorageStandardIA, WebsiteRedirectLocation: "/x",
		User: map[string]string{"color": "blue", "multi-word": "a,b"}}.WriteHeaders(h)
	ObjectLockHeaders{Mode: Compliance, RetainUntilDate: until.Time(), LegalHold: LegalHoldOff}.WriteHeaders(h)
	h.Set("ETag", QuoteETag("abc-2"))
	h.Set("Last-Modified", FormatHTTPTime(mod))
	h.Set("Content-Length", "0")
	f.status, f.header, f.body = http.StatusOK, h, nil
	ho := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}))
	eq(t, "content type", *ho.ContentType, "text/plain")
	eq(t, "cache control", *ho.CacheControl, "no-store")
	eq(t, "storage class", ho.StorageClass, types.StorageClassStandardIa)
	eq(t, "redirect", *ho.WebsiteRedirectLocation, "/x")
	eq(t, "metadata", ho.Metadata["color"], "blue")
	eq(t, "metadata multi", ho.Metadata["multi-word"], "a,b")
	eq(t, "lock mode", ho.ObjectLockMode, types.ObjectLockModeCompliance)
	eq(t, "lock until", ho.ObjectLockRetainUntilDate.Equal(until.Time()), true)
	eq(t, "legal hold", ho.ObjectLockLegalHoldStatus, types.ObjectLockLegalHoldStatusOff)
	eq(t, "etag", *ho.ETag, `"abc-2"`)
	eq(t, "last modified", ho.LastModified.Equal(mod.Truncate(time.Second)), true)
}

func TestSDKParsesListings(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{}
	c := newSDK(f)

	objs := []Object{
		{Key: "dir a/x+y.txt", LastModified: lm, ETag: "e1", Size: 1, StorageClass: StorageStandard, Owner: &Owner{ID: "o"}},
		{Key: "dir a/日本.txt", LastModified: lm, ETag: "e2-2", Size: 2, ChecksumAlgorithm: []string{"CRC32"}},
	}
	f.respond(t, ListBucketResult{Name: "b", Prefix: "dir a/", Marker: "dir a/", NextMarker: "dir a/日本.txt", MaxKeys: 2, Delimiter: "/",
		EncodingType: EncodingTypeURL, IsTruncated: true, Contents: objs, CommonPrefixes: []CommonPrefix{{Prefix: "dir a/sub dir/"}}})
	v1 := must[*s3.ListObjectsOutput](t)(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("b"), EncodingType: types.EncodingTypeUrl}))
	eq(t, "v1 contents", len(v1.Contents), 2)
	for i, o := range v1.Contents {
		eq(t, "v1 key", unescape(t, *o.Key), objs[i].Key)
	}
	eq(t, "v1 etag", *v1.Contents[1].ETag, `"e2-2"`)
	eq(t, "v1 checksum", v1.Contents[1].ChecksumAlgorithm[0], types.ChecksumAlgorithmCrc32)
	eq(t, "v1 next marker", unescape(t, *v1.NextMarker), "dir a/日本.txt")
	eq(t, "v1 prefix", unescape(t, *v1.CommonPrefixes[0].Prefix), "dir a/sub dir/")
	eq(t, "v1 truncated", *v1.IsTruncated, true)
	eq(t, "v1 encoding", v1.EncodingType, types.EncodingTypeUrl)
	eq(t, "v1 time", v1.Contents[0].LastModified.Equal(lm.Time()), true)

	token := EncodeContinuationToken("dir a/日本.txt", "")
	f.respond(t, ListBucketResultV2{Name: "b", Prefix: "dir a/", StartAfter: "dir a/", MaxKeys: 1000, IsTruncated: true,
		Contents: objs, NextContinuationToken: token, ContinuationToken: token})
	v2 := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b"), ContinuationToken: aws.String(token), MaxKeys: aws.Int32(5)}))
	eq(t, "v2 key count", *v2.KeyCount, 2)
	eq(t, "v2 key", *v2.Contents[1].Key, "dir a/日本.txt")
	eq(t, "v2 next token", *v2.NextContinuationToken, token)
	eq(t, "v2 start after", *v2.StartAfter, "dir a/")
	// The token and max-keys the SDK sent decode.
	q := f.req.URL.Query()
	k, _, err := DecodeContinuationToken(q.Get("continuation-token"))
	checkErr(t, err, nil)
	eq(t, "token key", k, "dir a/日本.txt")
	n, err := ParseMaxKeys(q.Get("max-keys"))
	checkErr(t, err, nil)
	eq(t, "max-keys", n, 5)

	lv := sampleVersions()
	lv.Versions[0].Key = "my image.jpg"
	lv.EncodingType = EncodingTypeURL
	f.respond(t, lv)
	vs := must[*s3.ListObjectVersionsOutput](t)(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("b")}))
	eq(t, "versions", len(vs.Versions), 3)
	eq(t, "delete markers", len(vs.DeleteMarkers), 2)
	eq(t, "version key", unescape(t, *vs.Versions[0].Key), "my image.jpg")
	eq(t, "version id", *vs.Versions[1].VersionId, "QUpfdndhfd8438MNFDN93jdnJFkdmqnh893")
	eq(t, "marker latest", *vs.DeleteMarkers[0].IsLatest, true)
	eq(t, "marker key", *vs.DeleteMarkers[1].Key, "my-third-image.jpg")

	f.respond(t, InitiateMultipartUploadResult{Bucket: "b", Key: "k", UploadID: "upload-1"})
	cm := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String("k")}))
	eq(t, "upload id", *cm.UploadId, "upload-1")

	f.respond(t, ListPartsResult{Bucket: "b", Key: "k", UploadID: "u", PartNumberMarker: 0, NextPartNumberMarker: 2, MaxParts: 2, IsTruncated: true,
		Parts:     []Part{{PartNumber: 1, LastModified: lm, ETag: "p1", Size: 5 << 20}, {PartNumber: 2, LastModified: lm, ETag: "p2", Size: 1, Checksums: Checksums{ChecksumSHA256: "s"}}},
		Initiator: &Owner{ID: "i"}, Owner: &Owner{ID: "o"}, StorageClass: StorageStandard})
	lp := must[*s3.ListPartsOutput](t)(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("b"), Key: aws.String("k"), UploadId: aws.String("u")}))
	eq(t, "parts", len(lp.Parts), 2)
	eq(t, "part size", *lp.Parts[0].Size, int64(5<<20))
	eq(t, "part etag", *lp.Parts[1].ETag, `"p2"`)
	eq(t, "part checksum", *lp.Parts[1].ChecksumSHA256, "s")
	eq(t, "next part marker", *lp.NextPartNumberMarker, "2")
	eq(t, "max parts", *lp.MaxParts, 2)

	f.respond(t, ListMultipartUploadsResult{Bucket: "b", MaxUploads: 10, EncodingType: EncodingTypeURL,
		Uploads: []Upload{{Key: "a b", UploadID: "u1", Initiated: lm, StorageClass: StorageStandard}}})
	lu := must[*s3.ListMultipartUploadsOutput](t)(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("b")}))
	eq(t, "uploads", len(lu.Uploads), 1)
	eq(t, "upload key", unescape(t, *lu.Uploads[0].Key), "a b")
	eq(t, "initiated", lu.Uploads[0].Initiated.Equal(lm.Time()), true)

	f.respond(t, CompleteMultipartUploadResult{Location: "http://ferry.test/b/k", Bucket: "b", Key: "k", ETag: "3858f62230ac3c915f300c664312c11f-9", ChecksumType: "COMPOSITE"})
	cmu := must[*s3.CompleteMultipartUploadOutput](t)(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String("k"), UploadId: aws.String("u"),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"x"`)}}}}))
	eq(t, "complete etag", *cmu.ETag, `"3858f62230ac3c915f300c664312c11f-9"`)
	eq(t, "complete location", *cmu.Location, "http://ferry.test/b/k")
	eq(t, "complete checksum type", cmu.ChecksumType, types.ChecksumTypeComposite)
}

func unescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatalf("QueryUnescape(%q): %v", s, err)
	}
	return u
}

// sent returns the body of the last request, failing if the SDK framed it
// in a way the gateway would have to undo first.
func (f *fakeS3) sent(t *testing.T) io.Reader {
	t.Helper()
	if ce := f.req.Header.Get("Content-Encoding"); strings.Contains(ce, "aws-chunked") {
		t.Fatalf("SDK sent an aws-chunked body")
	}
	return bytes.NewReader(f.reqBody)
}

func TestSDKRequestBodiesParse(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{}
	c := newSDK(f)
	b, k := aws.String("bucket"), aws.String("key")

	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b,
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}))
	cb, err := ParseCreateBucketConfiguration(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "location", cb.LocationConstraint, "eu-west-1")
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}))
	cb, err = ParseCreateBucketConfiguration(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "no location", cb.LocationConstraint, "")

	must[*s3.PutBucketVersioningOutput](t)(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled, MFADelete: types.MFADeleteDisabled}}))
	vc, err := ParseVersioningConfiguration(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "versioning", vc.Status, VersioningEnabled)

	must[*s3.PutObjectLockConfigurationOutput](t)(c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: b,
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeGovernance, Years: aws.Int32(2)}}}}))
	olc, err := ParseObjectLockConfiguration(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "lock years", *olc.Rule.DefaultRetention.Years, 2)

	date := time.Date(2032, 3, 1, 0, 0, 0, 0, time.UTC)
	must[*s3.PutBucketLifecycleConfigurationOutput](t)(c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{
			{ID: aws.String("a"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
				Expiration: &types.LifecycleExpiration{Days: aws.Int32(30)}},
			{ID: aws.String("b"), Status: types.ExpirationStatusEnabled,
				Filter: &types.LifecycleRuleFilter{And: &types.LifecycleRuleAndOperator{Prefix: aws.String("p/"),
					Tags: []types.Tag{{Key: aws.String("t1"), Value: aws.String("v1")}, {Key: aws.String("t2"), Value: aws.String("v2")}}, ObjectSizeGreaterThan: aws.Int64(100)}},
				Expiration: &types.LifecycleExpiration{Date: &date}},
			{ID: aws.String("c"), Status: types.ExpirationStatusDisabled, Filter: &types.LifecycleRuleFilter{},
				NoncurrentVersionExpiration:    &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(7), NewerNoncurrentVersions: aws.Int32(3)},
				AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)},
				Expiration:                     &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
		}}}))
	lc, err := ParseLifecycleConfiguration(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "rules", len(lc.Rules), 3)
	eq(t, "rule a prefix", *lc.Rules[0].Filter.Prefix, "logs/")
	eq(t, "rule b tags", len(lc.Rules[1].Filter.And.Tags), 2)
	eq(t, "rule b size", *lc.Rules[1].Filter.And.ObjectSizeGreaterThan, int64(100))
	eq(t, "rule b date", lc.Rules[1].Expiration.Date.Time().Equal(date), true)
	eq(t, "rule c newer", *lc.Rules[2].NoncurrentVersionExpiration.NewerNoncurrentVersions, 3)

	sdkTags := []types.Tag{{Key: aws.String("project"), Value: aws.String("ferry dr")}, {Key: aws.String("tier"), Value: aws.String("")}}
	must[*s3.PutObjectTaggingOutput](t)(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &types.Tagging{TagSet: sdkTags}}))
	ot, err := ParseObjectTagging(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "object tags", len(ot.TagSet), 2)
	eq(t, "object tag", ot.TagSet[0], Tag{"project", "ferry dr"})
	must[*s3.PutBucketTaggingOutput](t)(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: sdkTags}}))
	bt, err := ParseBucketTagging(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "bucket tags", len(bt.TagSet), 2)

	until := time.Date(2030, 6, 7, 8, 9, 10, 0, time.UTC)
	must[*s3.PutObjectRetentionOutput](t)(c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: b, Key: k,
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: &until}}))
	ret, err := ParseRetention(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "retention", ret.Mode, Compliance)
	eq(t, "retain until", ret.RetainUntilDate.Time().Equal(until), true)

	must[*s3.PutObjectLegalHoldOutput](t)(c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: b, Key: k,
		LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn}}))
	lh, err := ParseLegalHold(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "legal hold", lh.Status, LegalHoldOn)

	f.respond(t, CompleteMultipartUploadResult{Bucket: "bucket", Key: "key", ETag: "x-2"})
	must[*s3.CompleteMultipartUploadOutput](t)(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String("u"),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: aws.String(`"` + md5A + `"`), ChecksumCRC32: aws.String("AAAAAA==")},
			{PartNumber: aws.Int32(2), ETag: aws.String(md5A)},
		}}}))
	cm, err := ParseCompleteMultipartUpload(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "parts", len(cm.Parts), 2)
	eq(t, "part etag", cm.Parts[0].ETag, ETag(md5A))
	eq(t, "part crc", cm.Parts[0].ChecksumCRC32, "AAAAAA==")
	eq(t, "part 2", cm.Parts[1].PartNumber, 2)

	f.respond(t, DeleteResult{})
	must[*s3.DeleteObjectsOutput](t)(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Quiet: aws.Bool(true),
		Objects: []types.ObjectIdentifier{{Key: aws.String("a & b")}, {Key: aws.String("c"), VersionId: aws.String("v1")}}}}))
	del, err := ParseDelete(f.sent(t))
	checkErr(t, err, nil)
	eq(t, "quiet", del.Quiet, true)
	eq(t, "delete key", del.Objects[0].Key, "a & b")
	eq(t, "delete version", del.Objects[1].VersionID, "v1")
}

func TestSDKRequestHeadersParse(t *testing.T) {
	ctx := context.Background()
	f := &fakeS3{}
	c := newSDK(f)
	until := time.Date(2030, 6, 7, 8, 9, 10, 0, time.UTC)

	must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"),
		Body: strings.NewReader("hello"), ContentType: aws.String("text/plain"), CacheControl: aws.String("no-cache"),
		Metadata:                  map[string]string{"Color": "blue", "project-id": "42"},
		Tagging:                   aws.String(FormatTaggingHeader([]Tag{{"a b", "c+d"}, {"e", "f"}})),
		StorageClass:              types.StorageClassIntelligentTiering,
		ObjectLockMode:            types.ObjectLockModeGovernance,
		ObjectLockRetainUntilDate: &until,
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn,
		WebsiteRedirectLocation:   aws.String("https://example.com/"),
		IfNoneMatch:               aws.String("*"),
	}))
	h := f.req.Header
	meta, err := ParseObjectMeta(h)
	checkErr(t, err, nil)
	eq(t, "content type", meta.ContentType, "text/plain")
	eq(t, "storage class", meta.StorageClass, StorageIntelligentTiering)
	eq(t, "meta color", meta.User["color"], "blue")
	eq(t, "meta project", meta.User["project-id"], "42")
	eq(t, "redirect", meta.WebsiteRedirectLocation, "https://example.com/")
	tags, err := ParseTaggingHeader(h.Get("X-Amz-Tagging"))
	checkErr(t, err, nil)
	eq(t, "tags", len(tags), 2)
	eq(t, "tag", tags[0], Tag{"a b", "c+d"})
	lock, err := ParseObjectLockHeaders(h)
	checkErr(t, err, nil)
	eq(t, "lock mode", lock.Mode, Governance)
	eq(t, "lock until", lock.RetainUntilDate.Equal(until), true)
	eq(t, "legal hold", lock.LegalHold, LegalHoldOn)
	checkErr(t, EvalWriteConditions(h, true, "x"), s3err.ErrPreconditionFailed)
	checkErr(t, EvalWriteConditions(h, false, ""), nil)

	key := "dir/a b+c?.txt"
	f.respond(t, CopyObjectResult{ETag: "e", LastModified: lm})
	must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("b"), Key: aws.String("k"),
		CopySource:        aws.String("src-bucket/" + url.PathEscape(key) + "?versionId=v1"),
		CopySourceIfMatch: aws.String(`"e"`), MetadataDirective: types.MetadataDirectiveReplace}))
	cs, err := ParseCopySource(f.req.Header.Get("X-Amz-Copy-Source"))
	checkErr(t, err, nil)
	eq(t, "copy source", cs, CopySource{Bucket: "src-bucket", Key: key, VersionID: "v1"})
	checkErr(t, EvalCopySourceConditions(f.req.Header, "e", lm.Time()), nil)
	d, err := ParseDirective(f.req.Header.Get("X-Amz-Metadata-Directive"))
	checkErr(t, err, nil)
	eq(t, "directive", d, DirectiveReplace)

	f.respond(t, CopyPartResult{ETag: "e", LastModified: lm})
	must[*s3.UploadPartCopyOutput](t)(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("b"), Key: aws.String("k"),
		CopySource: aws.String("/src-bucket/k"), CopySourceRange: aws.String("bytes=0-9"), PartNumber: aws.Int32(7), UploadId: aws.String("u")}))
	r, err := ParseCopySourceRange(f.req.Header.Get("X-Amz-Copy-Source-Range"), 100)
	checkErr(t, err, nil)
	eq(t, "copy range", r, ByteRange{0, 10})
	pn, err := ParsePartNumber(f.req.URL.Query().Get("partNumber"))
	checkErr(t, err, nil)
	eq(t, "part number", pn, 7)
	checkErr(t, ValidUploadID(f.req.URL.Query().Get("uploadId")), nil)

	f.status, f.header, f.body = http.StatusOK, http.Header{"Content-Length": {"0"}}, nil
	must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k"),
		Range: aws.String("bytes=-10"), IfNoneMatch: aws.String(`"e"`)}))
	br, ok, err := ParseRange(f.req.Header.Get("Range"), 100)
	checkErr(t, err, nil)
	eq(t, "range", ok, true)
	eq(t, "range value", br, ByteRange{90, 10})
	checkErr(t, EvalConditions(http.MethodGet, f.req.Header, "e", lm.Time()), s3err.ErrNotModified)
}
