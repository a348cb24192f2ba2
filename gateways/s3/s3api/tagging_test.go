package s3api

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func tagsXML(tags ...Tag) string {
	var b strings.Builder
	b.WriteString(`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>`)
	for _, t := range tags {
		fmt.Fprintf(&b, "<Tag><Key>%s</Key><Value>%s</Value></Tag>", t.Key, t.Value)
	}
	b.WriteString(`</TagSet></Tagging>`)
	return b.String()
}

func nTags(n int) []Tag {
	tags := make([]Tag, n)
	for i := range tags {
		tags[i] = Tag{Key: fmt.Sprintf("k%d", i), Value: "v"}
	}
	return tags
}

func TestValidateTag(t *testing.T) {
	for _, tc := range []struct {
		tag  Tag
		want *s3err.Error
	}{
		{Tag{"project", "ferry"}, nil},
		{Tag{"a", ""}, nil},
		{Tag{"Key With Spaces", "value+-=._:/@"}, nil},
		{Tag{"日本語", "データ"}, nil},
		{Tag{"k", "42"}, nil},
		{Tag{strings.Repeat("k", 128), strings.Repeat("v", 256)}, nil},
		{Tag{strings.Repeat("é", 128), strings.Repeat("é", 256)}, nil}, // characters, not bytes
		{Tag{"", "v"}, s3err.ErrInvalidTag},
		{Tag{strings.Repeat("k", 129), "v"}, s3err.ErrInvalidTag},
		{Tag{"k", strings.Repeat("v", 257)}, s3err.ErrInvalidTag},
		{Tag{"aws:createdBy", "v"}, s3err.ErrInvalidTag},
		{Tag{"AWS:x", "v"}, s3err.ErrInvalidTag},
		{Tag{"k,1", "v"}, s3err.ErrInvalidTag},
		{Tag{"k", "a&b"}, s3err.ErrInvalidTag},
		{Tag{"k", "(v)"}, s3err.ErrInvalidTag},
		{Tag{"k\x00", "v"}, s3err.ErrInvalidTag},
		{Tag{"k", "\xff"}, s3err.ErrInvalidTag},
	} {
		checkErr(t, ValidateTag(tc.tag), tc.want)
	}
}

func TestParseTagging(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		bucket bool
		tags   []Tag
		want   *s3err.Error
	}{
		{name: "two", in: tagsXML(Tag{"a", "1"}, Tag{"b", ""}), tags: []Tag{{"a", "1"}, {"b", ""}}},
		{name: "empty set removes", in: `<Tagging><TagSet/></Tagging>`},
		{name: "no namespace", in: `<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>`, tags: []Tag{{"a", "1"}}},
		{name: "escaped", in: tagsXML(Tag{"a", "x&amp;y"}), want: s3err.ErrInvalidTag},
		{name: "ten object tags", in: tagsXML(nTags(10)...), tags: nTags(10)},
		{name: "eleven object tags", in: tagsXML(nTags(11)...), want: s3err.ErrInvalidTag},
		{name: "eleven bucket tags", in: tagsXML(nTags(11)...), bucket: true, tags: nTags(11)},
		{name: "fifty bucket tags", in: tagsXML(nTags(50)...), bucket: true, tags: nTags(50)},
		{name: "fifty-one bucket tags", in: tagsXML(nTags(51)...), bucket: true, want: s3err.ErrInvalidTag},
		{name: "duplicate", in: tagsXML(Tag{"a", "1"}, Tag{"a", "2"}), want: s3err.ErrInvalidTag},
		{name: "aws prefix", in: tagsXML(Tag{"aws:x", "1"}), want: s3err.ErrInvalidTag},
		{name: "empty key", in: tagsXML(Tag{"", "1"}), want: s3err.ErrInvalidTag},
		{name: "malformed", in: `<Tagging><TagSet>`, want: s3err.ErrMalformedXML},
		{name: "wrong root", in: `<TagSet></TagSet>`, want: s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parse := ParseObjectTagging
			if tc.bucket {
				parse = ParseBucketTagging
			}
			got, err := parse(body(tc.in))
			checkErr(t, err, tc.want)
			if len(got.TagSet) != 0 || len(tc.tags) != 0 {
				if !reflect.DeepEqual(got.TagSet, tc.tags) {
					t.Fatalf("TagSet = %v, want %v", got.TagSet, tc.tags)
				}
			}
		})
	}
}

func TestTaggingGolden(t *testing.T) {
	checkGolden(t, Tagging{}, `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>`)
	checkGolden(t, Tagging{TagSet: []Tag{{"tag1", "val1"}, {"tag2", "val2"}}},
		`<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>tag1</Key><Value>val1</Value></Tag><Tag><Key>tag2</Key><Value>val2</Value></Tag></TagSet></Tagging>`)
}

func TestParseTaggingHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		tags []Tag
		want *s3err.Error
	}{
		{"", nil, nil},
		{"a=1", []Tag{{"a", "1"}}, nil},
		{"a=1&b=2", []Tag{{"a", "1"}, {"b", "2"}}, nil},
		{"a", []Tag{{"a", ""}}, nil},
		{"a=", []Tag{{"a", ""}}, nil},
		{"a=1&&b=2&", []Tag{{"a", "1"}, {"b", "2"}}, nil},
		{"my+key=my%20value", []Tag{{"my key", "my value"}}, nil},
		{"k=a%2Bb%2Fc%3Dd", []Tag{{"k", "a+b/c=d"}}, nil},
		{"k=v=w", []Tag{{"k", "v=w"}}, nil},
		{"%E6%97%A5=%E6%9C%AC", []Tag{{"日", "本"}}, nil},
		{strings.TrimSuffix(strings.Repeat("k=v&", 1), "&"), []Tag{{"k", "v"}}, nil},
		{"a=1&a=2", nil, s3err.ErrInvalidArgument},
		{"a=%zz", nil, s3err.ErrInvalidArgument},
		{"%=1", nil, s3err.ErrInvalidArgument},
		{"=1", nil, s3err.ErrInvalidTag},
		{"aws%3Ax=1", nil, s3err.ErrInvalidTag},
		{"k=a%26b", nil, s3err.ErrInvalidTag},
		{FormatTaggingHeader(nTags(11)), nil, s3err.ErrInvalidTag},
	} {
		got, err := ParseTaggingHeader(tc.in)
		checkErr(t, err, tc.want)
		if !reflect.DeepEqual(got, tc.tags) {
			t.Fatalf("ParseTaggingHeader(%q) = %v, want %v", tc.in, got, tc.tags)
		}
	}
	tags := []Tag{{"a b", "c+d"}, {"日本", "x/y:z@w"}, {"e", ""}}
	back, err := ParseTaggingHeader(FormatTaggingHeader(tags))
	checkErr(t, err, nil)
	if !reflect.DeepEqual(back, tags) {
		t.Fatalf("round trip %v, want %v", back, tags)
	}
}
