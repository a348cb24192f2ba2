package s3api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

const md5A = "a54357aff0632cce46d942af68356b38"

func completeXML(parts ...string) string {
	return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + strings.Join(parts, "") + `</CompleteMultipartUpload>`
}

func partXML(n int, etag string) string {
	return fmt.Sprintf(`<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>`, n, etag)
}

func TestParseCompleteMultipartUpload(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *s3err.Error
		n    int
	}{
		{name: "one", in: completeXML(partXML(1, `"`+md5A+`"`)), n: 1},
		{name: "escaped quotes", in: completeXML(`<Part><ETag>&quot;` + md5A + `&quot;</ETag><PartNumber>1</PartNumber></Part>`), n: 1},
		{name: "unquoted", in: completeXML(partXML(1, md5A), partXML(3, md5A)), n: 2},
		{name: "gap", in: completeXML(partXML(2, md5A), partXML(10000, md5A)), n: 2},
		{name: "checksums", in: completeXML(`<Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256></Part>`), n: 1},
		{name: "no parts", in: completeXML(), want: s3err.ErrMalformedXML},
		{name: "part zero", in: completeXML(partXML(0, md5A)), want: s3err.ErrInvalidArgument},
		{name: "part 10001", in: completeXML(partXML(10001, md5A)), want: s3err.ErrInvalidArgument},
		{name: "negative", in: completeXML(partXML(-1, md5A)), want: s3err.ErrInvalidArgument},
		{name: "no part number", in: completeXML(`<Part><ETag>x</ETag></Part>`), want: s3err.ErrInvalidArgument},
		{name: "descending", in: completeXML(partXML(2, md5A), partXML(1, md5A)), want: s3err.ErrInvalidPartOrder},
		{name: "duplicate", in: completeXML(partXML(1, md5A), partXML(1, md5A)), want: s3err.ErrInvalidPartOrder},
		{name: "no etag", in: completeXML(`<Part><PartNumber>1</PartNumber></Part>`), want: s3err.ErrInvalidPart},
		{name: "empty etag", in: completeXML(partXML(1, `""`)), want: s3err.ErrInvalidPart},
		{name: "bad number", in: completeXML(partXML(1, md5A)[:0] + `<Part><PartNumber>one</PartNumber><ETag>x</ETag></Part>`), want: s3err.ErrMalformedXML},
		{name: "empty", in: ``, want: s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCompleteMultipartUpload(body(tc.in))
			checkErr(t, err, tc.want)
			if len(c.Parts) != tc.n {
				t.Fatalf("%d parts, want %d", len(c.Parts), tc.n)
			}
			for _, p := range c.Parts {
				if strings.Contains(string(p.ETag), `"`) {
					t.Fatalf("ETag %q kept its quotes", p.ETag)
				}
			}
		})
	}
	c, err := ParseCompleteMultipartUpload(body(completeXML(`<Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumCRC32C>c</ChecksumCRC32C><ChecksumCRC64NVME>n</ChecksumCRC64NVME><ChecksumSHA1>s</ChecksumSHA1></Part>`)))
	checkErr(t, err, nil)
	if p := c.Parts[0]; p.ChecksumCRC32C != "c" || p.ChecksumCRC64NVME != "n" || p.ChecksumSHA1 != "s" {
		t.Fatalf("checksums %+v", p.Checksums)
	}
}

// The largest CompleteMultipartUpload a client can send fits the limit.
func TestCompleteMultipartUploadLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + "\n")
	for n := 1; n <= MaxPartNumber; n++ {
		fmt.Fprintf(&b, "  <Part>\n    <ETag>&quot;%s&quot;</ETag>\n    <PartNumber>%d</PartNumber>\n"+
			"    <ChecksumCRC32>AAAAAA==</ChecksumCRC32>\n    <ChecksumCRC32C>AAAAAA==</ChecksumCRC32C>\n"+
			"    <ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>\n    <ChecksumSHA1>2jmj7l5rSw0yVb/vlWAYkK/YBwk=</ChecksumSHA1>\n"+
			"    <ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256>\n  </Part>\n", md5A, n)
	}
	b.WriteString(`</CompleteMultipartUpload>`)
	if b.Len() > MaxCompleteMultipartBodySize {
		t.Fatalf("10000 parts take %d bytes", b.Len())
	}
	c, err := ParseCompleteMultipartUpload(strings.NewReader(b.String()))
	checkErr(t, err, nil)
	if len(c.Parts) != MaxPartNumber {
		t.Fatalf("%d parts", len(c.Parts))
	}
	_, err = ParseCompleteMultipartUpload(strings.NewReader(strings.Repeat(" ", MaxCompleteMultipartBodySize+1)))
	checkErr(t, err, s3err.ErrMaxMessageLengthExceeded)
}

func TestMultipartETag(t *testing.T) {
	// Two parts whose MD5s are known: md5("a") and md5("b").
	got, err := MultipartETag([]string{`"0cc175b9c0f1b6a831c399e269772661"`, "92eb5ffee6ae2fec3ad71c777531578f"})
	checkErr(t, err, nil)
	// md5(md5("a") || md5("b")), computed with Python's hashlib.
	if got != "96e024ba2074fe77e8e965ba43a704be-2" {
		t.Fatalf("MultipartETag = %s", got)
	}
	_, err = MultipartETag(nil)
	checkErr(t, err, s3err.ErrInvalidPart)
	_, err = MultipartETag([]string{"abc"})
	checkErr(t, err, s3err.ErrInvalidPart)
	_, err = MultipartETag([]string{strings.Repeat("z", 32)})
	checkErr(t, err, s3err.ErrInvalidPart)
}

func TestETagQuoting(t *testing.T) {
	for in, want := range map[string]string{"abc": `"abc"`, `"abc"`: `"abc"`, "": `""`, `"`: `"""`} {
		if got := QuoteETag(in); got != want {
			t.Fatalf("QuoteETag(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{`"abc"`: "abc", "abc": "abc", ` W/"abc" `: "abc", `"abc-2"`: "abc-2", `"`: `"`} {
		if got := UnquoteETag(in); got != want {
			t.Fatalf("UnquoteETag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMultipartQueryHelpers(t *testing.T) {
	for in, want := range map[string]int{"1": 1, "10000": 10000, "0": -1, "10001": -1, "": -1, "x": -1, "-3": -1, "1.5": -1} {
		n, err := ParsePartNumber(in)
		if want < 0 {
			checkErr(t, err, s3err.ErrInvalidArgument)
			continue
		}
		checkErr(t, err, nil)
		if n != want {
			t.Fatalf("ParsePartNumber(%q) = %d", in, n)
		}
	}
	for id, ok := range map[string]bool{"VXBsb2FkSWQ": true, "a.b-c_d~e": true, "": false, "a b": false, "a\x00": false, strings.Repeat("u", 1025): false, "ü": false} {
		if ok {
			checkErr(t, ValidUploadID(id), nil)
		} else {
			checkErr(t, ValidUploadID(id), s3err.ErrNoSuchUpload)
		}
	}
	for id, ok := range map[string]bool{"null": true, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY": true, "": false, "a b": false, strings.Repeat("v", 1025): false} {
		if ok {
			checkErr(t, ValidVersionID(id), nil)
		} else {
			checkErr(t, ValidVersionID(id), s3err.ErrInvalidArgument)
		}
	}
}

func TestMultipartResponsesGolden(t *testing.T) {
	checkGolden(t, InitiateMultipartUploadResult{Bucket: "amzn-s3-demo-bucket", Key: "example-object", UploadID: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"},
		`<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>amzn-s3-demo-bucket</Bucket><Key>example-object</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId></InitiateMultipartUploadResult>`)
	checkGolden(t, CompleteMultipartUploadResult{Location: "http://s3.example/b/k", Bucket: "b", Key: "k", ETag: "3858f62230ac3c915f300c664312c11f-9"},
		`<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://s3.example/b/k</Location><Bucket>b</Bucket><Key>k</Key><ETag>&#34;3858f62230ac3c915f300c664312c11f-9&#34;</ETag></CompleteMultipartUploadResult>`)
	lm := Timestamp(time.Date(2010, 11, 10, 20, 48, 34, 0, time.UTC))
	checkGolden(t, ListPartsResult{Bucket: "b", Key: "k", UploadID: "u", PartNumberMarker: 1, NextPartNumberMarker: 3, MaxParts: 2, IsTruncated: true,
		Parts: []Part{{PartNumber: 2, LastModified: lm, ETag: "7778aef83f66abc1fa1e8477f296d394", Size: 10485760},
			{PartNumber: 3, LastModified: lm, ETag: "aaaa18db4cc2f85cedef654fccc4a4x8", Size: 10485760, Checksums: Checksums{ChecksumCRC32: "AAAAAA=="}}},
		Initiator: &Owner{ID: "i"}, Owner: &Owner{ID: "o", DisplayName: "d"}, StorageClass: StorageStandard},
		`<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>`+
			`<Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified><ETag>&#34;7778aef83f66abc1fa1e8477f296d394&#34;</ETag><Size>10485760</Size></Part>`+
			`<Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified><ETag>&#34;aaaa18db4cc2f85cedef654fccc4a4x8&#34;</ETag><Size>10485760</Size><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`+
			`<Initiator><ID>i</ID></Initiator><Owner><ID>o</ID><DisplayName>d</DisplayName></Owner><StorageClass>STANDARD</StorageClass></ListPartsResult>`)
}
