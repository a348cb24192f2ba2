package s3api

import (
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// CopySource is a parsed x-amz-copy-source header.
type CopySource struct {
	Bucket string
	Key    string
	// VersionID is empty when the header names no version.
	VersionID string
}

// ParseCopySource parses the x-amz-copy-source header of CopyObject and
// UploadPartCopy: "bucket/key" or "/bucket/key", URL-encoded (decoded as a
// path, so '+' stays '+'), optionally followed by "?versionId=id". The
// bucket must pass ValidBucketName and the key ValidObjectKey. Failures are
// InvalidArgument, or KeyTooLongError for a long key. Access point ARNs are
// not supported and fail as bad bucket names.
func ParseCopySource(v string) (CopySource, error) {
	form := func() error {
		return s3err.ErrInvalidArgument.With("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	path, query, hasQuery := strings.Cut(v, "?")
	var cs CopySource
	if hasQuery {
		name, val, _ := strings.Cut(query, "=")
		if name != "versionId" {
			return CopySource{}, s3err.ErrInvalidArgument.With("The x-amz-copy-source header accepts only a versionId query.")
		}
		id, err := url.QueryUnescape(val)
		if err != nil || ValidVersionID(id) != nil {
			return CopySource{}, s3err.ErrInvalidArgument.With("Invalid version id specified in x-amz-copy-source.")
		}
		cs.VersionID = id
	}
	p, err := url.PathUnescape(path)
	if err != nil {
		return CopySource{}, s3err.ErrInvalidArgument.With("The x-amz-copy-source header is not correctly URL-encoded.")
	}
	p = strings.TrimPrefix(p, "/")
	bucket, key, found := strings.Cut(p, "/")
	if !found || bucket == "" || key == "" {
		return CopySource{}, form()
	}
	if err := ValidBucketName(bucket); err != nil {
		return CopySource{}, s3err.ErrInvalidArgument.With("Invalid copy source bucket name: %s", s3err.As(err).Message)
	}
	if err := ValidObjectKey(key); err != nil {
		return CopySource{}, err
	}
	cs.Bucket, cs.Key = bucket, key
	return cs, nil
}

// ParseCopySourceRange parses the x-amz-copy-source-range header of
// UploadPartCopy against a source object of size bytes. Unlike Range, it
// must be exactly "bytes=first-last" with first <= last < size; anything
// else is InvalidArgument, as S3 answers.
func ParseCopySourceRange(v string, size int64) (ByteRange, error) {
	form := s3err.ErrInvalidArgument.With("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return ByteRange{}, form
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok || !allDigits(a) || !allDigits(b) {
		return ByteRange{}, form
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first > last || last >= size {
		return ByteRange{}, s3err.ErrInvalidArgument.With("Range specified is not valid for source object of size: %d", size)
	}
	return ByteRange{Start: first, Length: last - first + 1}, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Directive is the value of x-amz-metadata-directive or
// x-amz-tagging-directive.
type Directive string

// The directives. An absent header means DirectiveCopy.
const (
	DirectiveCopy    Directive = "COPY"
	DirectiveReplace Directive = "REPLACE"
)

// ParseDirective parses a metadata or tagging directive header: empty is
// COPY; COPY and REPLACE are accepted; anything else is InvalidArgument.
func ParseDirective(v string) (Directive, error) {
	switch Directive(v) {
	case "", DirectiveCopy:
		return DirectiveCopy, nil
	case DirectiveReplace:
		return DirectiveReplace, nil
	}
	return "", s3err.ErrInvalidArgument.With("Unknown directive %q: expected COPY or REPLACE.", v)
}

// CopyObjectResult is the CopyObject response.
type CopyObjectResult struct {
	XMLName      xml.Name  `xml:"CopyObjectResult"`
	ETag         ETag      `xml:"ETag"`
	LastModified Timestamp `xml:"LastModified"`
	ChecksumType string    `xml:"ChecksumType,omitempty"`
	Checksums
}

func (CopyObjectResult) xmlRoot() string { return "CopyObjectResult" }

// CopyPartResult is the UploadPartCopy response.
type CopyPartResult struct {
	XMLName      xml.Name  `xml:"CopyPartResult"`
	ETag         ETag      `xml:"ETag"`
	LastModified Timestamp `xml:"LastModified"`
	Checksums
}

func (CopyPartResult) xmlRoot() string { return "CopyPartResult" }
