package s3api

import (
	"encoding/xml"
	"math/rand/v2"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// The first four rows were measured against Amazon S3 with
// encoding-type=url (brekkylab/backlot#178).
func TestEncodeName(t *testing.T) {
	for in, want := range map[string]string{
		"a b.txt":      "a+b.txt",
		"a+b.txt":      "a%2Bb.txt",
		"100%.csv":     "100%25.csv",
		"한글/x.txt":     "%ED%95%9C%EA%B8%80/x.txt",
		"run books/":   "run+books/",
		"AZaz09-_.*/":  "AZaz09-_.*/",
		"~!'()&=?#":    "%7E%21%27%28%29%26%3D%3F%23",
		"\x00\x01\n\r": "%00%01%0A%0D",
		"":             "",
	} {
		if got := encodeName(in); got != want {
			t.Errorf("encodeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeNameDecodes(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		s := string(b)
		enc := encodeName(s)
		got, err := url.QueryUnescape(enc)
		if err != nil || got != s {
			t.Fatalf("QueryUnescape(encodeName(%q)) = %q, %v", s, got, err)
		}
	}
}

func TestParseEncodingType(t *testing.T) {
	for in, want := range map[string]string{"": "", "url": "url", "URL": "url"} {
		got, err := ParseEncodingType(in)
		checkErr(t, err, nil)
		if got != want {
			t.Fatalf("ParseEncodingType(%q) = %q", in, got)
		}
	}
	_, err := ParseEncodingType("base64")
	checkErr(t, err, s3err.ErrInvalidArgument)
}

func TestParseMax(t *testing.T) {
	for _, parse := range []func(string) (int, error){ParseMaxKeys, ParseMaxParts, ParseMaxUploads} {
		for in, want := range map[string]int{"": 1000, "0": 0, "1": 1, "999": 999, "1000": 1000, "1001": 1000, "2147483647": 1000} {
			got, err := parse(in)
			checkErr(t, err, nil)
			if got != want {
				t.Fatalf("parse(%q) = %d, want %d", in, got, want)
			}
		}
		for _, in := range []string{"-1", "x", "1.5", "2147483648", "99999999999999999999", "0x10"} {
			_, err := parse(in)
			checkErr(t, err, s3err.ErrInvalidArgument)
		}
	}
	for in, want := range map[string]int{"": 0, "0": 0, "7": 7, "20000": 20000} {
		got, err := ParsePartNumberMarker(in)
		checkErr(t, err, nil)
		if got != want {
			t.Fatalf("ParsePartNumberMarker(%q) = %d", in, got)
		}
	}
	for _, in := range []string{"-1", "x"} {
		_, err := ParsePartNumberMarker(in)
		checkErr(t, err, s3err.ErrInvalidArgument)
	}
}

var lm = Timestamp(time.Date(2009, 10, 12, 17, 50, 30, 0, time.UTC))

func TestListBucketResultGolden(t *testing.T) {
	v1 := ListBucketResult{
		Name: "bucket", Prefix: "", Marker: "", MaxKeys: 1000, IsTruncated: false,
		Contents: []Object{{Key: "my-image.jpg", LastModified: lm, ETag: "fba9dede5f27731c9771645a39863328", Size: 434234,
			Owner: &Owner{ID: "8a6925ce4a7f21c32aa379004fef", DisplayName: "mtd@amazon.com"}, StorageClass: StorageStandard}},
	}
	checkGolden(t, v1, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>`+
		`<Contents><Key>my-image.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;fba9dede5f27731c9771645a39863328&#34;</ETag><Size>434234</Size><Owner><ID>8a6925ce4a7f21c32aa379004fef</ID><DisplayName>mtd@amazon.com</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`)

	enc := ListBucketResult{
		Name: "b", Prefix: "run books/", Marker: "run books/a b", NextMarker: "run books/z+z", MaxKeys: 2, Delimiter: " ",
		EncodingType: EncodingTypeURL, IsTruncated: true,
		Contents:       []Object{{Key: "run books/a b", LastModified: lm, ETag: "e", Size: 1}},
		CommonPrefixes: []CommonPrefix{{Prefix: "run books/x "}},
	}
	checkGolden(t, enc, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>run+books/</Prefix><Marker>run+books/a+b</Marker><NextMarker>run+books/z%2Bz</NextMarker><MaxKeys>2</MaxKeys><Delimiter>+</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>`+
		`<Contents><Key>run+books/a+b</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;e&#34;</ETag><Size>1</Size></Contents><CommonPrefixes><Prefix>run+books/x+</Prefix></CommonPrefixes></ListBucketResult>`)
	if enc.Contents[0].Key != "run books/a b" || enc.CommonPrefixes[0].Prefix != "run books/x " {
		t.Fatal("marshalling changed the caller's values")
	}
}

func TestListBucketResultV2Golden(t *testing.T) {
	v2 := ListBucketResultV2{
		Name: "b", Prefix: "a b/", StartAfter: "a b/0", ContinuationToken: "tok+/=", NextContinuationToken: "next+/=",
		MaxKeys: 3, Delimiter: "/", EncodingType: EncodingTypeURL, IsTruncated: true, KeyCount: 99,
		Contents: []Object{
			{Key: "a b/1", LastModified: lm, ETag: "e1", Size: 1, ChecksumAlgorithm: []string{"CRC64NVME"}, ChecksumType: "FULL_OBJECT", StorageClass: StorageStandard},
			{Key: "a b/2", LastModified: lm, ETag: "e2-3", Size: 2},
		},
		CommonPrefixes: []CommonPrefix{{Prefix: "a b/c/"}},
	}
	checkGolden(t, v2, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>a+b/</Prefix><ContinuationToken>tok+/=</ContinuationToken><StartAfter>a+b/0</StartAfter><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>`+
		`<Contents><Key>a+b/1</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;e1&#34;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>`+
		`<Contents><Key>a+b/2</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;e2-3&#34;</ETag><Size>2</Size></Contents>`+
		`<CommonPrefixes><Prefix>a+b/c/</Prefix></CommonPrefixes><NextContinuationToken>next+/=</NextContinuationToken></ListBucketResult>`)
	checkGolden(t, ListBucketResultV2{Name: "b", MaxKeys: 1000},
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
}

func sampleVersions() ListVersionsResult {
	return ListVersionsResult{
		Name: "bucket", Prefix: "my", KeyMarker: "", VersionIDMarker: "", MaxKeys: 5, IsTruncated: false,
		Versions: []ObjectVersion{
			{Key: "my-image.jpg", VersionID: "3/L4kqtJl40Nr8X8gdRQBpUMLUo", IsLatest: true, LastModified: lm, ETag: "fba9dede5f27731c9771645a39863328", Size: 434234, StorageClass: StorageStandard, Owner: &Owner{ID: "o"}},
			{IsDeleteMarker: true, Key: "my-second-image.jpg", VersionID: "03jpff543dhffds434rfdsFDN943fdsFkdmqnh892", IsLatest: true, LastModified: lm, Owner: &Owner{ID: "o"}},
			{Key: "my-second-image.jpg", VersionID: "QUpfdndhfd8438MNFDN93jdnJFkdmqnh893", IsLatest: false, LastModified: lm, ETag: "9b2cf535f27731c974343645a3985328", Size: 166434, StorageClass: StorageStandard},
			{IsDeleteMarker: true, Key: "my-third-image.jpg", VersionID: "null", IsLatest: true, LastModified: lm},
			{Key: "my-third-image.jpg", VersionID: "null", LastModified: lm, ETag: "e-2", Size: 5},
		},
	}
}

func TestListVersionsResultGolden(t *testing.T) {
	checkGolden(t, sampleVersions(), `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>my</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>5</MaxKeys><IsTruncated>false</IsTruncated>`+
		`<Version><Key>my-image.jpg</Key><VersionId>3/L4kqtJl40Nr8X8gdRQBpUMLUo</VersionId><IsLatest>true</IsLatest><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;fba9dede5f27731c9771645a39863328&#34;</ETag><Size>434234</Size><Owner><ID>o</ID></Owner><StorageClass>STANDARD</StorageClass></Version>`+
		`<DeleteMarker><Key>my-second-image.jpg</Key><VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId><IsLatest>true</IsLatest><LastModified>2009-10-12T17:50:30.000Z</LastModified><Owner><ID>o</ID></Owner></DeleteMarker>`+
		`<Version><Key>my-second-image.jpg</Key><VersionId>QUpfdndhfd8438MNFDN93jdnJFkdmqnh893</VersionId><IsLatest>false</IsLatest><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;9b2cf535f27731c974343645a3985328&#34;</ETag><Size>166434</Size><StorageClass>STANDARD</StorageClass></Version>`+
		`<DeleteMarker><Key>my-third-image.jpg</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>2009-10-12T17:50:30.000Z</LastModified></DeleteMarker>`+
		`<Version><Key>my-third-image.jpg</Key><VersionId>null</VersionId><IsLatest>false</IsLatest><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&#34;e-2&#34;</ETag><Size>5</Size></Version>`+
		`</ListVersionsResult>`)
}

func TestListVersionsResultRoundTrip(t *testing.T) {
	in := sampleVersions()
	in.CommonPrefixes = []CommonPrefix{{Prefix: "my/"}}
	in.NextKeyMarker, in.NextVersionIDMarker, in.Delimiter = "my-third-image.jpg", "null", "/"
	b, err := Marshal(in)
	checkErr(t, err, nil)
	var out ListVersionsResult
	if err := xml.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	out.XMLName = xml.Name{}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", out, in)
	}

	enc := sampleVersions()
	enc.EncodingType = EncodingTypeURL
	enc.Versions[0].Key = "my image+.jpg"
	enc.KeyMarker = "a b"
	b, err = Marshal(enc)
	checkErr(t, err, nil)
	if !strings.Contains(string(b), "<Key>my+image%2B.jpg</Key>") || !strings.Contains(string(b), "<KeyMarker>a+b</KeyMarker>") {
		t.Fatalf("not encoded: %s", b)
	}
	if enc.Versions[0].Key != "my image+.jpg" {
		t.Fatal("marshalling changed the caller's values")
	}
}

func TestListMultipartUploadsGolden(t *testing.T) {
	init := Timestamp(time.Date(2010, 11, 10, 20, 48, 33, 0, time.UTC))
	l := ListMultipartUploadsResult{
		Bucket: "bucket", KeyMarker: "", UploadIDMarker: "", NextKeyMarker: "my movie.m2ts", NextUploadIDMarker: "YW55IGlkZWEgd2h5",
		Delimiter: "/", Prefix: "", EncodingType: EncodingTypeURL, MaxUploads: 3, IsTruncated: true,
		Uploads: []Upload{{Key: "my divisor", UploadID: "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw", Initiator: &Owner{ID: "i", DisplayName: "InitiatorDisplayName"},
			Owner: &Owner{ID: "o", DisplayName: "OwnerDisplayName"}, StorageClass: StorageReducedRedundancy, Initiated: init}},
		CommonPrefixes: []CommonPrefix{{Prefix: "photos 2006/"}},
	}
	checkGolden(t, l, `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>my+movie.m2ts</NextKeyMarker><NextUploadIdMarker>YW55IGlkZWEgd2h5</NextUploadIdMarker><Delimiter>/</Delimiter><Prefix></Prefix><EncodingType>url</EncodingType><MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>`+
		`<Upload><Key>my+divisor</Key><UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId><Initiator><ID>i</ID><DisplayName>InitiatorDisplayName</DisplayName></Initiator><Owner><ID>o</ID><DisplayName>OwnerDisplayName</DisplayName></Owner><StorageClass>REDUCED_REDUNDANCY</StorageClass><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>`+
		`<CommonPrefixes><Prefix>photos+2006/</Prefix></CommonPrefixes></ListMultipartUploadsResult>`)
}

// Every response type marshals with its declared root and parses back with
// encoding/xml into an equal value (EncodingType unset).
func TestResponsesRoundTrip(t *testing.T) {
	until := Timestamp(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, v := range []Response{
		&ListAllMyBucketsResult{Owner: &Owner{ID: "o"}, Buckets: []BucketInfo{{Name: "b", CreationDate: lm}}},
		&LocationConstraint{Region: "eu-west-1"},
		&VersioningConfiguration{Status: VersioningEnabled},
		&ListBucketResult{Name: "b", MaxKeys: 1, Contents: []Object{{Key: "k", LastModified: lm, ETag: "e", Size: 1}}, CommonPrefixes: []CommonPrefix{{Prefix: "p/"}}},
		&ListBucketResultV2{Name: "b", MaxKeys: 1, KeyCount: 1, Contents: []Object{{Key: "k", LastModified: lm, ETag: "e", Size: 1}}},
		&InitiateMultipartUploadResult{Bucket: "b", Key: "k", UploadID: "u"},
		&CompleteMultipartUploadResult{Location: "l", Bucket: "b", Key: "k", ETag: "e-2", Checksums: Checksums{ChecksumCRC32: "c"}, ChecksumType: "COMPOSITE"},
		&ListPartsResult{Bucket: "b", Key: "k", UploadID: "u", MaxParts: 1, Parts: []Part{{PartNumber: 1, LastModified: lm, ETag: "e", Size: 5}}},
		&ListMultipartUploadsResult{Bucket: "b", MaxUploads: 1, Uploads: []Upload{{Key: "k", UploadID: "u", Initiated: lm}}},
		&CopyObjectResult{ETag: "e", LastModified: lm, ChecksumType: "FULL_OBJECT", Checksums: Checksums{ChecksumSHA256: "s"}},
		&CopyPartResult{ETag: "e", LastModified: lm},
		&DeleteResult{Deleted: []DeletedObject{{Key: "k"}}, Errors: []DeleteError{{Key: "x", Code: "AccessDenied", Message: "m"}}},
		&ObjectLockConfiguration{ObjectLockEnabled: ObjectLockEnabled, Rule: &ObjectLockRule{DefaultRetention: &DefaultRetention{Mode: Compliance, Days: ptr(1)}}},
		&LifecycleConfiguration{Rules: []LifecycleRule{{ID: "r", Filter: &LifecycleFilter{}, Status: RuleEnabled, Expiration: &LifecycleExpiration{Days: ptr(1)}}}},
		&Tagging{TagSet: []Tag{{"k", "v"}}},
		&Retention{Mode: Governance, RetainUntilDate: &until},
		&LegalHold{Status: LegalHoldOn},
	} {
		b, err := Marshal(v)
		checkErr(t, err, nil)
		out := reflect.New(reflect.TypeOf(v).Elem())
		if err := xml.Unmarshal(b, out.Interface()); err != nil {
			t.Fatalf("%T: %v\n%s", v, err, b)
		}
		got := out.Elem()
		got.FieldByName("XMLName").Set(reflect.ValueOf(xml.Name{}))
		if !reflect.DeepEqual(got.Interface(), reflect.ValueOf(v).Elem().Interface()) {
			t.Fatalf("%T round trip:\n%+v\nwant\n%+v\n%s", v, got.Interface(), reflect.ValueOf(v).Elem().Interface(), b)
		}
		if root := v.xmlRoot(); !strings.Contains(string(b), "<"+root+` xmlns="`+Namespace+`"`) {
			t.Fatalf("%T: root %s not found in %s", v, root, b)
		}
	}
}
