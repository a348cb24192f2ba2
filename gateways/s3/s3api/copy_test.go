package s3api

import (
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestParseCopySource(t *testing.T) {
	for _, tc := range []struct {
		in   string
		out  CopySource
		want *s3err.Error
	}{
		{"bucket/key", CopySource{Bucket: "bucket", Key: "key"}, nil},
		{"/bucket/key", CopySource{Bucket: "bucket", Key: "key"}, nil},
		{"bucket/dir/sub/key.txt", CopySource{Bucket: "bucket", Key: "dir/sub/key.txt"}, nil},
		{"bucket/a%20b%2Bc+d", CopySource{Bucket: "bucket", Key: "a b+c+d"}, nil},
		{"bucket/%E6%97%A5%E6%9C%AC", CopySource{Bucket: "bucket", Key: "日本"}, nil},
		{"bucket/key%3Fq", CopySource{Bucket: "bucket", Key: "key?q"}, nil},
		{"bucket/dir%2Fkey", CopySource{Bucket: "bucket", Key: "dir/key"}, nil},
		{"bucket//leading", CopySource{Bucket: "bucket", Key: "/leading"}, nil},
		{"bucket/key?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY", CopySource{Bucket: "bucket", Key: "key", VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}, nil},
		{"/bucket/key?versionId=null", CopySource{Bucket: "bucket", Key: "key", VersionID: "null"}, nil},
		{"", CopySource{}, s3err.ErrInvalidArgument},
		{"/", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/", CopySource{}, s3err.ErrInvalidArgument},
		{"/bucket/", CopySource{}, s3err.ErrInvalidArgument},
		{"//bucket/key", CopySource{}, s3err.ErrInvalidArgument},
		{"Bad_Bucket/key", CopySource{}, s3err.ErrInvalidArgument},
		{"arn:aws:s3:us-west-2:123456789012:accesspoint/ap/object/key", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/%zz", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/key?versionId=", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/key?versionid=v", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/key?partNumber=1", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/key?versionId=%zz", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/../etc", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/a%00b", CopySource{}, s3err.ErrInvalidArgument},
		{"bucket/" + strings.Repeat("k", 1025), CopySource{}, s3err.ErrKeyTooLong},
	} {
		got, err := ParseCopySource(tc.in)
		checkErr(t, err, tc.want)
		if got != tc.out {
			t.Fatalf("ParseCopySource(%q) = %+v, want %+v", tc.in, got, tc.out)
		}
	}
}

func TestParseCopySourceRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		size int64
		out  ByteRange
		want *s3err.Error
	}{
		{"bytes=0-0", 1, ByteRange{0, 1}, nil},
		{"bytes=0-99", 100, ByteRange{0, 100}, nil},
		{"bytes=5242880-10485759", 20 << 20, ByteRange{5242880, 5242880}, nil},
		{"bytes=0-100", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=100-100", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=5-2", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=0-0", 0, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=0-", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=-5", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"0-5", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=0-1,3-4", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=a-b", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes= 0-5", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=+0-5", 100, ByteRange{}, s3err.ErrInvalidArgument},
		{"bytes=0-99999999999999999999", 100, ByteRange{}, s3err.ErrInvalidArgument},
	} {
		got, err := ParseCopySourceRange(tc.in, tc.size)
		checkErr(t, err, tc.want)
		if got != tc.out {
			t.Fatalf("ParseCopySourceRange(%q, %d) = %+v, want %+v", tc.in, tc.size, got, tc.out)
		}
	}
}

func TestParseDirective(t *testing.T) {
	for in, want := range map[string]Directive{"": DirectiveCopy, "COPY": DirectiveCopy, "REPLACE": DirectiveReplace} {
		got, err := ParseDirective(in)
		checkErr(t, err, nil)
		if got != want {
			t.Fatalf("ParseDirective(%q) = %q", in, got)
		}
	}
	_, err := ParseDirective("replace")
	checkErr(t, err, s3err.ErrInvalidArgument)
}

func TestCopyResultsGolden(t *testing.T) {
	checkGolden(t, CopyObjectResult{ETag: "9b2cf535f27731c974343645a3985328", LastModified: lm},
		`<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>&#34;9b2cf535f27731c974343645a3985328&#34;</ETag><LastModified>2009-10-12T17:50:30.000Z</LastModified></CopyObjectResult>`)
	checkGolden(t, CopyPartResult{ETag: "b", LastModified: lm, Checksums: Checksums{ChecksumCRC32C: "c"}},
		`<CopyPartResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>&#34;b&#34;</ETag><LastModified>2009-10-12T17:50:30.000Z</LastModified><ChecksumCRC32C>c</ChecksumCRC32C></CopyPartResult>`)
}
