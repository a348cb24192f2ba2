package s3api

import (
	"encoding/xml"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Tag limits, as S3 enforces them.
const (
	MaxObjectTags     = 10
	MaxBucketTags     = 50
	MaxTagKeyLength   = 128 // Unicode characters
	MaxTagValueLength = 256 // Unicode characters
)

// Tag is one key/value tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// Tagging is the body of PutObjectTagging and PutBucketTagging and the
// response of the matching GETs. It always marshals a TagSet element, empty
// or not, as S3 does.
type Tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	TagSet  []Tag    `xml:"TagSet>Tag"`
}

func (Tagging) xmlRoot() string { return "Tagging" }

// MarshalXML implements xml.Marshaler.
func (t Tagging) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type tagSet struct {
		Tags []Tag `xml:"Tag"`
	}
	return e.EncodeElement(struct {
		TagSet tagSet `xml:"TagSet"`
	}{tagSet{t.TagSet}}, start)
}

// ParseObjectTagging parses a PutObjectTagging body (at most
// MaxConfigBodySize bytes) and validates its tags for an object. An empty
// TagSet (or none) is valid: it removes every tag.
func ParseObjectTagging(r io.Reader) (Tagging, error) { return parseTagging(r, MaxObjectTags) }

// ParseBucketTagging parses a PutBucketTagging body (at most
// MaxConfigBodySize bytes) and validates its tags for a bucket.
func ParseBucketTagging(r io.Reader) (Tagging, error) { return parseTagging(r, MaxBucketTags) }

func parseTagging(r io.Reader, maxTags int) (Tagging, error) {
	var t Tagging
	if err := decodeBody(r, MaxConfigBodySize, &t); err != nil {
		return Tagging{}, err
	}
	if err := ValidateTags(t.TagSet, maxTags); err != nil {
		return Tagging{}, err
	}
	return t, nil
}

// ValidateTags checks a tag set as S3 does: at most maxTags tags (use
// MaxObjectTags or MaxBucketTags), no key twice, and every tag valid by
// ValidateTag. Every failure is InvalidTag.
func ValidateTags(tags []Tag, maxTags int) error {
	if len(tags) > maxTags {
		return s3err.ErrInvalidTag.With("Tags cannot be greater than %d.", maxTags)
	}
	for i, t := range tags {
		if err := ValidateTag(t); err != nil {
			return err
		}
		for _, u := range tags[:i] {
			if u.Key == t.Key {
				return s3err.ErrInvalidTag.With("Cannot provide multiple Tags with the same key.")
			}
		}
	}
	return nil
}

// ValidateTag checks one tag: a key of 1 to 128 and a value of 0 to 256
// Unicode characters, both valid UTF-8 drawn from the set S3 documents
// (letters, digits, white space and + - = . _ : / @), and no key starting
// with the reserved "aws:". Failures are InvalidTag.
func ValidateTag(t Tag) error {
	if t.Key == "" {
		return s3err.ErrInvalidTag.With("The TagKey you have provided is invalid: it is empty.")
	}
	if !utf8.ValidString(t.Key) || !tagChars(t.Key) {
		return s3err.ErrInvalidTag.With("The TagKey you have provided is invalid.")
	}
	if utf8.RuneCountInString(t.Key) > MaxTagKeyLength {
		return s3err.ErrInvalidTag.With("The TagKey you have provided is too long, max %d.", MaxTagKeyLength)
	}
	if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
		return s3err.ErrInvalidTag.With("Your TagKey cannot be prefixed with aws:.")
	}
	if !utf8.ValidString(t.Value) || !tagChars(t.Value) {
		return s3err.ErrInvalidTag.With("The TagValue you have provided is invalid.")
	}
	if utf8.RuneCountInString(t.Value) > MaxTagValueLength {
		return s3err.ErrInvalidTag.With("The TagValue you have provided is too long, max %d.", MaxTagValueLength)
	}
	return nil
}

// tagChars reports whether s uses only S3's tag characters, the pattern
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ of the S3 API reference.
func tagChars(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.In(r, unicode.Z), unicode.IsNumber(r):
		case strings.ContainsRune("_.:/=+-@", r):
		default:
			return false
		}
	}
	return true
}

// ParseTaggingHeader parses the x-amz-tagging header of PutObject, CopyObject
// and CreateMultipartUpload: URL query encoding, "k1=v1&k2=v2". A pair
// without "=" is a tag with an empty value. Bad escapes and duplicate keys
// are InvalidArgument, as S3 answers; tag rules and the limit of
// MaxObjectTags are InvalidTag. An empty header is no tags.
func ParseTaggingHeader(v string) ([]Tag, error) {
	bad := func() error {
		return s3err.ErrInvalidArgument.With("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	var tags []Tag
	for pair := range strings.SplitSeq(v, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, bad()
		}
		value, err := url.QueryUnescape(val)
		if err != nil {
			return nil, bad()
		}
		for _, t := range tags {
			if t.Key == key {
				return nil, bad()
			}
		}
		tags = append(tags, Tag{Key: key, Value: value})
		if len(tags) > MaxObjectTags {
			return nil, s3err.ErrInvalidTag.With("Object tags cannot be greater than %d.", MaxObjectTags)
		}
	}
	if err := ValidateTags(tags, MaxObjectTags); err != nil {
		return nil, err
	}
	return tags, nil
}

// FormatTaggingHeader encodes tags as the x-amz-tagging header carries them,
// in the given order. ParseTaggingHeader reverses it.
func FormatTaggingHeader(tags []Tag) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(t.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(t.Value))
	}
	return b.String()
}
