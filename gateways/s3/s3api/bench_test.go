package s3api

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkParseCompleteMultipartUpload(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<CompleteMultipartUpload>`)
	for n := 1; n <= MaxPartNumber; n++ {
		fmt.Fprintf(&sb, `<Part><ETag>"%s"</ETag><PartNumber>%d</PartNumber></Part>`, md5A, n)
	}
	sb.WriteString(`</CompleteMultipartUpload>`)
	doc := sb.String()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := ParseCompleteMultipartUpload(strings.NewReader(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalListBucketResultV2(b *testing.B) {
	l := ListBucketResultV2{Name: "bucket", MaxKeys: MaxKeys, EncodingType: EncodingTypeURL}
	for i := range MaxKeys {
		l.Contents = append(l.Contents, Object{Key: fmt.Sprintf("dir %d/object %d.bin", i/10, i), LastModified: lm, ETag: md5A, Size: int64(i), StorageClass: StorageStandard})
	}
	out, err := Marshal(l)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := Marshal(l); err != nil {
			b.Fatal(err)
		}
	}
}
