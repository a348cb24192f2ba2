package s3_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestVersioningWithAWSSDK: versioning enable/suspend, versions and delete
// markers through every node, ListObjectVersions paging, reads and
// permanent deletes by version id.
func TestVersioningWithAWSSDK(t *testing.T) {
	for _, nodes := range []int{1, 3} {
		t.Run(fmt.Sprintf("nodes=%d", nodes), func(t *testing.T) {
			rng := seed(t)
			s := newSite(t, nodes)
			ctx := ctxT(t)
			client := func(i int) *awss3.Client { return s.aws(i%nodes, testSecretKey) }
			c := client(0)
			bucket := aws.String("versioned")
			if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: bucket}); err != nil {
				t.Fatal(err)
			}
			v, err := c.GetBucketVersioning(ctx, &awss3.GetBucketVersioningInput{Bucket: bucket})
			if err != nil || v.Status != "" {
				t.Fatalf("versioning of a new bucket: %q, %v", v.Status, err)
			}
			if _, err := c.PutBucketVersioning(ctx, &awss3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
			v, err = client(1).GetBucketVersioning(ctx, &awss3.GetBucketVersioningInput{Bucket: bucket})
			if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
				t.Fatalf("versioning after enabling: %q, %v", v.Status, err)
			}
			// Three versions of one key, each through another node.
			var ids []string
			var bodies [][]byte
			for i := range 3 {
				b := payload(rng, 100+rng.IntN(200_000))
				out, err := client(i).PutObject(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("doc"), Body: bytes.NewReader(b)})
				if err != nil {
					t.Fatal(err)
				}
				if out.VersionId == nil || *out.VersionId == "" || *out.VersionId == "null" {
					t.Fatalf("put %d: version id %v", i, out.VersionId)
				}
				ids, bodies = append(ids, *out.VersionId), append(bodies, b)
			}
			for i, id := range ids {
				out, err := client(i+1).GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("doc"), VersionId: aws.String(id)})
				if err != nil {
					t.Fatalf("get version %d: %v", i, err)
				}
				got, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if !bytes.Equal(got, bodies[i]) || aws.ToString(out.VersionId) != id {
					t.Fatalf("version %d: %d bytes, id %v", i, len(got), aws.ToString(out.VersionId))
				}
			}
			// A delete adds a marker: the key is gone from listings and
			// GETs, its versions stay.
			del, err := client(2).DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bucket, Key: aws.String("doc")})
			if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
				t.Fatalf("delete: %+v, %v", del, err)
			}
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("doc")}); apiCode(err) != "NoSuchKey" {
				t.Fatalf("get under a delete marker: %v", err)
			}
			if _, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bucket, Key: aws.String("doc"), VersionId: del.VersionId}); !isStatus(err, 405) {
				t.Fatalf("head of a delete marker by version id: %v", err)
			}
			l, err := c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: bucket})
			if err != nil || len(l.Contents) != 0 {
				t.Fatalf("listing after the delete: %v, %v", l.Contents, err)
			}
			// ListObjectVersions, a page of two at a time.
			var seen []string
			var markers int
			in := &awss3.ListObjectVersionsInput{Bucket: bucket, MaxKeys: aws.Int32(2)}
			for {
				page, err := client(len(seen)).ListObjectVersions(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range page.Versions {
					seen = append(seen, aws.ToString(v.VersionId))
					if aws.ToBool(v.IsLatest) {
						t.Fatalf("version %s is latest under a delete marker", aws.ToString(v.VersionId))
					}
				}
				for _, m := range page.DeleteMarkers {
					markers++
					if aws.ToString(m.VersionId) != aws.ToString(del.VersionId) || !aws.ToBool(m.IsLatest) {
						t.Fatalf("delete marker %+v", m)
					}
				}
				if !aws.ToBool(page.IsTruncated) {
					break
				}
				in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
			}
			if want := []string{ids[2], ids[1], ids[0]}; strings.Join(seen, ",") != strings.Join(want, ",") || markers != 1 {
				t.Fatalf("versions %v (markers %d), want %v", seen, markers, want)
			}
			// Removing the marker and then the newest version for good
			// makes the one before current.
			for _, id := range []string{aws.ToString(del.VersionId), ids[2]} {
				if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bucket, Key: aws.String("doc"), VersionId: aws.String(id)}); err != nil {
					t.Fatal(err)
				}
			}
			if got := getAll(t, ctx, client(1), *bucket, "doc", nil); !bytes.Equal(got, bodies[1]) {
				t.Fatal("after removing the newest version, the current one is not the one before")
			}
			if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("doc"), VersionId: aws.String(ids[2])}); apiCode(err) != "NoSuchVersion" {
				t.Fatalf("get of a removed version: %v", err)
			}
			// Multi-delete by version.
			md, err := c.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
				{Key: aws.String("doc"), VersionId: aws.String(ids[0])}, {Key: aws.String("doc")},
			}}})
			if err != nil || len(md.Errors) != 0 || len(md.Deleted) != 2 || !aws.ToBool(md.Deleted[1].DeleteMarker) {
				t.Fatalf("multi-delete: %+v, %v", md, err)
			}
			// Suspended: puts write the null version.
			if _, err := c.PutBucketVersioning(ctx, &awss3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if _, err := client(i).PutObject(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("doc"), Body: strings.NewReader(fmt.Sprint("null ", i))}); err != nil {
					t.Fatal(err)
				}
			}
			out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("doc"), VersionId: aws.String("null")})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(got) != "null 1" {
				t.Fatalf("null version holds %q", got)
			}
		})
	}
}

// TestMultipartWithAWSSDK: the SDK's upload manager (parallel parts), then
// the multipart API by hand: listing uploads and parts, replacing a part,
// a part copied from a range, completion checks, abort.
func TestMultipartWithAWSSDK(t *testing.T) {
	rng := seed(t)
	s := newSite(t, 3)
	ctx := ctxT(t)
	c := s.aws(0, testSecretKey)
	bucket := aws.String("parts")
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	const partSize = 5 << 20
	big := payload(rng, 3*partSize+12345)
	up := manager.NewUploader(s.aws(1, testSecretKey), func(u *manager.Uploader) { u.PartSize = partSize; u.Concurrency = 3 })
	res, err := up.Upload(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("big"), Body: bytes.NewReader(big), ContentType: aws.String("application/x-test")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Trim(aws.ToString(res.ETag), `"`), "-4") {
		t.Fatalf("multipart ETag %s", aws.ToString(res.ETag))
	}
	if got := getAll(t, ctx, s.aws(2, testSecretKey), *bucket, "big", nil); !bytes.Equal(got, big) {
		t.Fatal("multipart object differs")
	}
	// A range across the boundary of parts 1 and 2.
	rngHdr := fmt.Sprintf("bytes=%d-%d", partSize-10, partSize+9)
	if got := getAll(t, ctx, c, *bucket, "big", &rngHdr); !bytes.Equal(got, big[partSize-10:partSize+10]) {
		t.Fatal("range across parts differs")
	}
	// A part by number.
	po, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("big"), PartNumber: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(po.Body)
	po.Body.Close()
	if !bytes.Equal(got, big[partSize:2*partSize]) || aws.ToInt32(po.PartsCount) != 4 {
		t.Fatalf("part 2: %d bytes, parts count %d", len(got), aws.ToInt32(po.PartsCount))
	}
	if _, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("big"), PartNumber: aws.Int32(5)}); apiCode(err) != "InvalidPart" {
		t.Fatalf("part 5 of 4: %v", err)
	}
	head, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bucket, Key: aws.String("big")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(big)) || aws.ToString(head.ContentType) != "application/x-test" {
		t.Fatalf("head: %+v, %v", head, err)
	}

	// By hand.
	cu, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("hand"),
		Metadata: map[string]string{"origin": "test"}, Tagging: aws.String("a=1&b=2")})
	if err != nil {
		t.Fatal(err)
	}
	id := cu.UploadId
	part := func(n int32, b []byte) string {
		t.Helper()
		out, err := s.aws(int(n)%3, testSecretKey).UploadPart(ctx, &awss3.UploadPartInput{Bucket: bucket, Key: aws.String("hand"), UploadId: id,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		return aws.ToString(out.ETag)
	}
	p1 := payload(rng, partSize)
	e1 := part(1, p1)
	part(2, payload(rng, partSize)) // replaced below
	p2 := payload(rng, partSize+1)
	e2 := part(2, p2)
	// Part 3 copies a range of "big".
	cp, err := c.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{Bucket: bucket, Key: aws.String("hand"), UploadId: id, PartNumber: aws.Int32(3),
		CopySource: aws.String(*bucket + "/big"), CopySourceRange: aws.String("bytes=100-1099")})
	if err != nil {
		t.Fatal(err)
	}
	e3 := aws.ToString(cp.CopyPartResult.ETag)
	lp, err := c.ListParts(ctx, &awss3.ListPartsInput{Bucket: bucket, Key: aws.String("hand"), UploadId: id, MaxParts: aws.Int32(2)})
	if err != nil || len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToInt64(lp.Parts[1].Size) != partSize+1 {
		t.Fatalf("list parts: %+v, %v", lp, err)
	}
	lu, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bucket})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("list uploads: %+v, %v", lu, err)
	}
	completed := func(parts ...s3types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String("hand"), UploadId: id,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	cpart := func(n int32, etag string) s3types.CompletedPart {
		return s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	for _, tc := range []struct {
		parts []s3types.CompletedPart
		code  string
	}{
		{[]s3types.CompletedPart{cpart(1, e1), cpart(2, e1)}, "InvalidPart"},
		{[]s3types.CompletedPart{cpart(1, e1), cpart(4, e2)}, "InvalidPart"},
		{[]s3types.CompletedPart{cpart(2, e2), cpart(1, e1)}, "InvalidPartOrder"},
		{[]s3types.CompletedPart{cpart(3, e3), cpart(2, e2)}, "InvalidPartOrder"},
		{[]s3types.CompletedPart{cpart(1, e1), cpart(3, e3), cpart(2, e2)}, "InvalidPartOrder"},
	} {
		if err := completed(tc.parts...); apiCode(err) != tc.code {
			t.Fatalf("complete %v: %v, want %s", tc.parts, err, tc.code)
		}
	}
	// Part 3 (1000 bytes) is fine last, not in the middle.
	if err := completed(cpart(1, e1), cpart(3, e3)); err != nil {
		t.Fatal(err)
	}
	if got, want := getAll(t, ctx, c, *bucket, "hand", nil), append(append([]byte{}, p1...), big[100:1100]...); !bytes.Equal(got, want) {
		t.Fatal("completed object differs")
	}
	tags, err := c.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: bucket, Key: aws.String("hand")})
	if err != nil || len(tags.TagSet) != 2 {
		t.Fatalf("tags of the completed object: %+v, %v", tags, err)
	}
	if err := completed(cpart(1, e1)); apiCode(err) != "NoSuchUpload" {
		t.Fatalf("completing twice: %v", err)
	}
	// Abort drops an upload.
	cu2, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("dropped")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("dropped"), UploadId: cu2.UploadId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: bucket, Key: aws.String("dropped"), UploadId: cu2.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("late")}); apiCode(err) != "NoSuchUpload" {
		t.Fatalf("part of an aborted upload: %v", err)
	}
	if lu, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: bucket}); err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("uploads left: %+v, %v", lu, err)
	}
}

// TestWORMWithAWSSDK: a COMPLIANCE-locked version cannot be deleted, its
// retention cannot be shortened nor its mode weakened, by any user; a
// delete only hides it behind a marker; a legal hold stops removal.
func TestWORMWithAWSSDK(t *testing.T) {
	s := newSite(t, 1)
	ctx := ctxT(t)
	c := s.aws(0, testSecretKey)
	bucket := aws.String("vault")
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: bucket, ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	v, err := c.GetBucketVersioning(ctx, &awss3.GetBucketVersioningInput{Bucket: bucket})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("a bucket with object lock versions: %q, %v", v.Status, err)
	}
	if _, err := c.PutBucketVersioning(ctx, &awss3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); apiCode(err) != "InvalidBucketState" {
		t.Fatalf("suspending versioning under object lock: %v", err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, &awss3.PutObjectLockConfigurationInput{Bucket: bucket, ObjectLockConfiguration: &s3types.ObjectLockConfiguration{
		ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
		Rule:              &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}},
	}}); err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetObjectLockConfiguration(ctx, &awss3.GetObjectLockConfigurationInput{Bucket: bucket})
	if err != nil || lc.ObjectLockConfiguration.Rule.DefaultRetention.Mode != s3types.ObjectLockRetentionModeGovernance {
		t.Fatalf("lock configuration: %+v, %v", lc, err)
	}
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	put, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("ledger"), Body: strings.NewReader("entries"),
		ObjectLockMode: s3types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(until)})
	if err != nil {
		t.Fatal(err)
	}
	vid := put.VersionId
	head, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bucket, Key: aws.String("ledger")})
	if err != nil || head.ObjectLockMode != s3types.ObjectLockModeCompliance || !aws.ToTime(head.ObjectLockRetainUntilDate).Equal(until) {
		t.Fatalf("head of a locked object: %+v, %v", head, err)
	}
	// No removal, with or without the bypass header.
	for _, bypass := range []bool{false, true} {
		if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bucket, Key: aws.String("ledger"), VersionId: vid, BypassGovernanceRetention: aws.Bool(bypass)}); apiCode(err) != "AccessDenied" {
			t.Fatalf("deleting a COMPLIANCE version (bypass %v): %v", bypass, err)
		}
	}
	md, err := c.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("ledger"), VersionId: vid}}}})
	if err != nil || len(md.Errors) != 1 || aws.ToString(md.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("multi-delete of a COMPLIANCE version: %+v, %v", md, err)
	}
	// No shortening, no weakening to GOVERNANCE.
	for _, r := range []*s3types.ObjectLockRetention{
		{Mode: s3types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.Add(-time.Hour))},
		{Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(until.Add(time.Hour))},
	} {
		if _, err := c.PutObjectRetention(ctx, &awss3.PutObjectRetentionInput{Bucket: bucket, Key: aws.String("ledger"), VersionId: vid, Retention: r, BypassGovernanceRetention: aws.Bool(true)}); apiCode(err) != "AccessDenied" {
			t.Fatalf("weakening retention to %+v: %v", r, err)
		}
	}
	// Extending is allowed.
	if _, err := c.PutObjectRetention(ctx, &awss3.PutObjectRetentionInput{Bucket: bucket, Key: aws.String("ledger"), VersionId: vid,
		Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.Add(time.Hour))}}); err != nil {
		t.Fatal(err)
	}
	// A new put is a new version; a plain delete a marker; the locked
	// version reads back unchanged.
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("ledger"), Body: strings.NewReader("rewritten")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bucket, Key: aws.String("ledger")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: bucket, Key: aws.String("ledger"), VersionId: vid})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "entries" {
		t.Fatalf("locked version reads %q", got)
	}
	// The default retention (GOVERNANCE, 1 day) applies to versions that
	// name none; the bypass needs an administrator, which "tester" is not.
	gov, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("gov"), Body: strings.NewReader("g")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.GetObjectRetention(ctx, &awss3.GetObjectRetentionInput{Bucket: bucket, Key: aws.String("gov")})
	if err != nil || r.Retention.Mode != s3types.ObjectLockRetentionModeGovernance {
		t.Fatalf("default retention: %+v, %v", r, err)
	}
	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: bucket, Key: aws.String("gov"), VersionId: gov.VersionId, BypassGovernanceRetention: aws.Bool(true)}); apiCode(err) != "AccessDenied" {
		t.Fatalf("bypass by a non-administrator: %v", err)
	}
	// Legal hold.
	if _, err := c.PutObjectLegalHold(ctx, &awss3.PutObjectLegalHoldInput{Bucket: bucket, Key: aws.String("gov"), VersionId: gov.VersionId,
		LegalHold: &s3types.ObjectLockLegalHold{Status: s3types.ObjectLockLegalHoldStatusOn}}); err != nil {
		t.Fatal(err)
	}
	lh, err := c.GetObjectLegalHold(ctx, &awss3.GetObjectLegalHoldInput{Bucket: bucket, Key: aws.String("gov"), VersionId: gov.VersionId})
	if err != nil || lh.LegalHold.Status != s3types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("legal hold: %+v, %v", lh, err)
	}
	// A bucket without object lock refuses lock headers.
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ObjectLockMode: s3types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(until)}); apiCode(err) != "InvalidArgument" && apiCode(err) != "InvalidRequest" {
		t.Fatalf("lock headers on a bucket without object lock: %v", err)
	}
}

// TestTaggingAndLifecycleWithAWSSDK: object and bucket tagging, and the
// lifecycle configuration round trip.
func TestTaggingAndLifecycleWithAWSSDK(t *testing.T) {
	s := newSite(t, 1)
	ctx := ctxT(t)
	c := s.aws(0, testSecretKey)
	bucket := aws.String("tagged")
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: bucket, Key: aws.String("k"), Body: strings.NewReader("x"), Tagging: aws.String("team=ops")}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: bucket, Key: aws.String("k")})
	if err != nil || aws.ToInt32(head.TagCount) != 1 {
		t.Fatalf("tag count: %+v, %v", head.TagCount, err)
	}
	if _, err := c.PutObjectTagging(ctx, &awss3.PutObjectTaggingInput{Bucket: bucket, Key: aws.String("k"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")},
	}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: bucket, Key: aws.String("k")})
	if err != nil || len(tags.TagSet) != 2 || aws.ToString(tags.TagSet[0].Key) != "a" {
		t.Fatalf("object tags: %+v, %v", tags, err)
	}
	if _, err := c.DeleteObjectTagging(ctx, &awss3.DeleteObjectTaggingInput{Bucket: bucket, Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if tags, err := c.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: bucket, Key: aws.String("k")}); err != nil || len(tags.TagSet) != 0 {
		t.Fatalf("tags after delete: %+v, %v", tags, err)
	}
	if _, err := c.GetBucketTagging(ctx, &awss3.GetBucketTaggingInput{Bucket: bucket}); apiCode(err) != "NoSuchTagSet" {
		t.Fatalf("bucket tags before any: %v", err)
	}
	if _, err := c.PutBucketTagging(ctx, &awss3.PutBucketTaggingInput{Bucket: bucket, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("cost"), Value: aws.String("7")}}}}); err != nil {
		t.Fatal(err)
	}
	bt, err := c.GetBucketTagging(ctx, &awss3.GetBucketTaggingInput{Bucket: bucket})
	if err != nil || len(bt.TagSet) != 1 || aws.ToString(bt.TagSet[0].Value) != "7" {
		t.Fatalf("bucket tags: %+v, %v", bt, err)
	}
	if _, err := c.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: bucket}); apiCode(err) != "NoSuchLifecycleConfiguration" {
		t.Fatalf("lifecycle before any: %v", err)
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &awss3.PutBucketLifecycleConfigurationInput{Bucket: bucket, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
		Rules: []s3types.LifecycleRule{{
			ID: aws.String("expire-logs"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
			Expiration:                     &s3types.LifecycleExpiration{Days: aws.Int32(30)},
			NoncurrentVersionExpiration:    &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(7)},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)},
		}},
	}}); err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
	if err != nil || len(lc.Rules) != 1 || aws.ToInt32(lc.Rules[0].Expiration.Days) != 30 || aws.ToInt32(lc.Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 2 {
		t.Fatalf("lifecycle: %+v, %v", lc, err)
	}
	if _, err := c.DeleteBucketLifecycle(ctx, &awss3.DeleteBucketLifecycleInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketLifecycleConfiguration(ctx, &awss3.GetBucketLifecycleConfigurationInput{Bucket: bucket}); apiCode(err) != "NoSuchLifecycleConfiguration" {
		t.Fatalf("lifecycle after delete: %v", err)
	}
}
