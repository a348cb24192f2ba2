package s3api

// minio-go's exported response types (with its own strict decoder for
// ListVersionsResult) parse what Marshal writes, and the lifecycle and tag
// documents minio-go builds parse here.

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"time"

	minio "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
	"github.com/minio/minio-go/v7/pkg/tags"
)

func minioDecode(t *testing.T, v Response, out any) {
	t.Helper()
	b, err := Marshal(v)
	checkErr(t, err, nil)
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
		t.Fatalf("minio-go cannot decode %T: %v\n%s", v, err, b)
	}
}

// minioName decodes a name as minio-go does under encoding-type=url.
func minioName(t *testing.T, s, encodingType string) string {
	t.Helper()
	if encodingType != "url" {
		return s
	}
	return unescape(t, s)
}

func TestMinioParsesListings(t *testing.T) {
	objs := []Object{
		{Key: "a b/c+d%e.txt", LastModified: lm, ETag: "e1", Size: 10, StorageClass: StorageStandard},
		{Key: "a b/ü~*.bin", LastModified: lm, ETag: "e2-3", Size: 20},
	}
	var v2 minio.ListBucketV2Result
	tok := EncodeContinuationToken("a b/ü~*.bin", "")
	minioDecode(t, ListBucketResultV2{Name: "b", Prefix: "a b/", MaxKeys: 2, Delimiter: "/", EncodingType: EncodingTypeURL, IsTruncated: true,
		Contents: objs, CommonPrefixes: []CommonPrefix{{Prefix: "a b/sub dir/"}}, NextContinuationToken: tok}, &v2)
	eq(t, "encoding", v2.EncodingType, "url")
	eq(t, "contents", len(v2.Contents), 2)
	for i, o := range v2.Contents {
		eq(t, "key", minioName(t, o.Key, v2.EncodingType), objs[i].Key)
		eq(t, "size", o.Size, objs[i].Size)
		eq(t, "time", o.LastModified.Equal(lm.Time()), true)
	}
	eq(t, "etag", v2.Contents[1].ETag, `"e2-3"`)
	eq(t, "prefix", minioName(t, v2.Prefix, v2.EncodingType), "a b/")
	eq(t, "common prefix", minioName(t, v2.CommonPrefixes[0].Prefix, v2.EncodingType), "a b/sub dir/")
	eq(t, "token", v2.NextContinuationToken, tok)
	eq(t, "truncated", v2.IsTruncated, true)

	var v1 minio.ListBucketResult
	minioDecode(t, ListBucketResult{Name: "b", Marker: "m n", NextMarker: "a b/ü~*.bin", MaxKeys: 2, EncodingType: EncodingTypeURL, IsTruncated: true, Contents: objs}, &v1)
	eq(t, "v1 marker", minioName(t, v1.Marker, v1.EncodingType), "m n")
	eq(t, "v1 next marker", minioName(t, v1.NextMarker, v1.EncodingType), "a b/ü~*.bin")
	eq(t, "v1 key", minioName(t, v1.Contents[0].Key, v1.EncodingType), objs[0].Key)

	// minio-go's ListVersionsResult decoder rejects any element it does not
	// know and keeps versions and delete markers in document order.
	lv := sampleVersions()
	lv.EncodingType = EncodingTypeURL
	lv.Versions[1].Key = "my second image.jpg"
	lv.Delimiter, lv.NextKeyMarker, lv.NextVersionIDMarker, lv.IsTruncated = "/", "next key", "nv", true
	lv.CommonPrefixes = []CommonPrefix{{Prefix: "my dir/"}}
	var mv minio.ListVersionsResult
	minioDecode(t, lv, &mv)
	eq(t, "versions", len(mv.Versions), len(lv.Versions))
	for i, v := range mv.Versions {
		want := lv.Versions[i]
		eq(t, "order key", minioName(t, v.Key, mv.EncodingType), want.Key)
		eq(t, "order version", v.VersionID, want.VersionID)
		eq(t, "latest", v.IsLatest, want.IsLatest)
		eq(t, "size", v.Size, want.Size)
	}
	eq(t, "next key marker", minioName(t, mv.NextKeyMarker, mv.EncodingType), "next key")
	eq(t, "next version marker", mv.NextVersionIDMarker, "nv")
	eq(t, "common prefix", minioName(t, mv.CommonPrefixes[0].Prefix, mv.EncodingType), "my dir/")

	var mu minio.ListMultipartUploadsResult
	minioDecode(t, ListMultipartUploadsResult{Bucket: "b", NextKeyMarker: "k 2", NextUploadIDMarker: "u2", MaxUploads: 1, IsTruncated: true, EncodingType: EncodingTypeURL,
		Uploads: []Upload{{Key: "k 1", UploadID: "u1", Initiated: lm, Initiator: &Owner{ID: "i"}, Owner: &Owner{ID: "o"}, StorageClass: StorageStandard}}}, &mu)
	eq(t, "uploads", len(mu.Uploads), 1)
	eq(t, "upload key", minioName(t, mu.Uploads[0].Key, mu.EncodingType), "k 1")
	eq(t, "upload id", mu.Uploads[0].UploadID, "u1")
	eq(t, "initiated", mu.Uploads[0].Initiated.Equal(lm.Time()), true)
	eq(t, "next upload marker", mu.NextUploadIDMarker, "u2")

	var mp minio.ListObjectPartsResult
	minioDecode(t, ListPartsResult{Bucket: "b", Key: "k", UploadID: "u", NextPartNumberMarker: 2, MaxParts: 2, IsTruncated: true,
		Parts: []Part{{PartNumber: 1, LastModified: lm, ETag: "p1", Size: 5}, {PartNumber: 2, LastModified: lm, ETag: "p2", Size: 6, Checksums: Checksums{ChecksumCRC32C: "c"}}}}, &mp)
	eq(t, "parts", len(mp.ObjectParts), 2)
	eq(t, "part number", mp.ObjectParts[1].PartNumber, 2)
	eq(t, "part crc32c", mp.ObjectParts[1].ChecksumCRC32C, "c")
	eq(t, "next part marker", mp.NextPartNumberMarker, 2)
}

func TestMinioDocumentsParse(t *testing.T) {
	cfg := lifecycle.NewConfiguration()
	cfg.Rules = []lifecycle.Rule{
		{ID: "expire-logs", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "logs/"}, Expiration: lifecycle.Expiration{Days: 30}},
		{ID: "tagged", Status: "Enabled",
			RuleFilter: lifecycle.Filter{And: lifecycle.And{Prefix: "data/", Tags: []lifecycle.Tag{{Key: "tier", Value: "cold"}, {Key: "team", Value: "dr"}}}},
			Expiration: lifecycle.Expiration{Date: lifecycle.ExpirationDate{Time: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		{ID: "versions", Status: "Disabled", RuleFilter: lifecycle.Filter{Prefix: "v/"},
			NoncurrentVersionExpiration:    lifecycle.NoncurrentVersionExpiration{NoncurrentDays: 7, NewerNoncurrentVersions: 2},
			AbortIncompleteMultipartUpload: lifecycle.AbortIncompleteMultipartUpload{DaysAfterInitiation: 3}},
		{ID: "markers", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "m/"}, Expiration: lifecycle.Expiration{DeleteMarker: true}},
	}
	b, err := xml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := ParseLifecycleConfiguration(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	eq(t, "rules", len(lc.Rules), 4)
	eq(t, "rule 0 days", *lc.Rules[0].Expiration.Days, 30)
	eq(t, "rule 1 tags", len(lc.Rules[1].Filter.And.Tags), 2)
	eq(t, "rule 1 date", lc.Rules[1].Expiration.Date.Time().Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), true)
	eq(t, "rule 2 noncurrent", *lc.Rules[2].NoncurrentVersionExpiration.NoncurrentDays, 7)
	eq(t, "rule 2 abort", *lc.Rules[2].AbortIncompleteMultipartUpload.DaysAfterInitiation, 3)
	eq(t, "rule 3 marker", *lc.Rules[3].Expiration.ExpiredObjectDeleteMarker, true)

	// And minio-go reads ours back.
	out, err := Marshal(lc)
	checkErr(t, err, nil)
	var back lifecycle.Configuration
	if err := xml.Unmarshal(out, &back); err != nil {
		t.Fatalf("minio-go cannot parse our lifecycle: %v\n%s", err, out)
	}
	eq(t, "minio rules", len(back.Rules), 4)
	eq(t, "minio rule 1 tags", len(back.Rules[1].RuleFilter.And.Tags), 2)
	eq(t, "minio rule 2 newer", back.Rules[2].NoncurrentVersionExpiration.NewerNoncurrentVersions, 2)

	ot, err := tags.MapToObjectTags(map[string]string{"project": "ferry", "env": "dr site", "k": "a+b=c"})
	if err != nil {
		t.Fatal(err)
	}
	b, err = xml.Marshal(ot)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := ParseObjectTagging(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	eq(t, "xml tags", len(tg.TagSet), 3)
	hdr, err := ParseTaggingHeader(ot.String())
	checkErr(t, err, nil)
	got := map[string]string{}
	for _, tag := range hdr {
		got[tag.Key] = tag.Value
	}
	eq(t, "header tags", len(got), 3)
	eq(t, "header tag", got["env"], "dr site")
	eq(t, "header tag escaped", got["k"], "a+b=c")

	// minio-go reads our Tagging and the header we format.
	out, err = Marshal(Tagging{TagSet: hdr})
	checkErr(t, err, nil)
	mt, err := tags.ParseObjectXML(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("minio-go cannot parse our Tagging: %v\n%s", err, out)
	}
	eq(t, "minio xml tags", mt.Count(), 3)
	mh, err := tags.ParseObjectTags(FormatTaggingHeader(hdr))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "minio header tag", mh.ToMap()["env"], "dr site")
	if !strings.Contains(FormatTaggingHeader([]Tag{{"a b", "c"}}), "a+b") {
		t.Fatal("space not query-encoded")
	}
	if _, err := url.ParseQuery(FormatTaggingHeader(hdr)); err != nil {
		t.Fatal(err)
	}
}
