package s3api

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Listing limits.
const (
	// MaxKeys is the default and the largest page of ListObjects,
	// ListObjectsV2 and ListObjectVersions; MaxParts and MaxUploads are the
	// same for ListParts and ListMultipartUploads.
	MaxKeys    = 1000
	MaxParts   = 1000
	MaxUploads = 1000
)

// EncodingTypeURL is the only encoding-type S3 defines.
const EncodingTypeURL = "url"

// ParseEncodingType parses the encoding-type query parameter: empty or
// "url", else InvalidArgument.
func ParseEncodingType(v string) (string, error) {
	switch {
	case v == "":
		return "", nil
	case strings.EqualFold(v, EncodingTypeURL):
		return EncodingTypeURL, nil
	}
	return "", s3err.ErrInvalidArgument.With("Invalid Encoding Method specified in Request.")
}

func encodes(encodingType string) bool { return encodingType == EncodingTypeURL }

// encodeName URL-encodes a key, prefix, delimiter or marker as S3 does under
// encoding-type=url: like Java's URLEncoder (space as '+', letters, digits
// and "-_.*" kept, every other byte of the UTF-8 as %XX) except that '/' is
// kept too. url.QueryUnescape, botocore's unquote_plus and minio-go decode it.
func encodeName(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '*', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func encodePrefixes(cps []CommonPrefix) []CommonPrefix {
	if cps == nil {
		return nil
	}
	out := make([]CommonPrefix, len(cps))
	for i, cp := range cps {
		out[i] = CommonPrefix{Prefix: encodeName(cp.Prefix)}
	}
	return out
}

func encodeObjects(objs []Object) []Object {
	if objs == nil {
		return nil
	}
	out := append([]Object(nil), objs...)
	for i := range out {
		out[i].Key = encodeName(out[i].Key)
	}
	return out
}

// parseMax parses a max-keys style parameter: empty is def, values above
// limit are limit, negative or non-integer values are InvalidArgument.
func parseMax(name, v string, limit int) (int, error) {
	if v == "" {
		return limit, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < 0 {
		return 0, s3err.ErrInvalidArgument.With("Provided %s not an integer or within integer range.", name)
	}
	return min(int(n), limit), nil
}

// ParseMaxKeys parses the max-keys query parameter: default and cap 1000,
// zero allowed, negative or non-integer values InvalidArgument.
func ParseMaxKeys(v string) (int, error) { return parseMax("max-keys", v, MaxKeys) }

// ParseMaxParts parses the max-parts query parameter of ListParts like
// ParseMaxKeys.
func ParseMaxParts(v string) (int, error) { return parseMax("max-parts", v, MaxParts) }

// ParseMaxUploads parses the max-uploads query parameter of
// ListMultipartUploads like ParseMaxKeys.
func ParseMaxUploads(v string) (int, error) { return parseMax("max-uploads", v, MaxUploads) }

// ParsePartNumberMarker parses the part-number-marker query parameter of
// ListParts: empty is 0, otherwise a non-negative integer, else
// InvalidArgument.
func ParsePartNumberMarker(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil || n < 0 {
		return 0, s3err.ErrInvalidArgument.With("Provided part-number-marker not an integer or within integer range.")
	}
	return int(n), nil
}

// CommonPrefix is one rolled-up prefix of a delimited listing.
type CommonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// Object is one entry of a ListObjects or ListObjectsV2 listing.
type Object struct {
	Key               string       `xml:"Key"`
	LastModified      Timestamp    `xml:"LastModified"`
	ETag              ETag         `xml:"ETag"`
	ChecksumAlgorithm []string     `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string       `xml:"ChecksumType,omitempty"`
	Size              int64        `xml:"Size"`
	Owner             *Owner       `xml:"Owner,omitempty"`
	StorageClass      StorageClass `xml:"StorageClass,omitempty"`
}

// ListBucketResult is the ListObjects (version 1) response. Fields hold raw
// values; when EncodingType is "url", MarshalXML URL-encodes Prefix,
// Delimiter, Marker, NextMarker, keys and common prefixes, as S3 does.
// Marker and Prefix are always present, empty or not.
type ListBucketResult struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter,omitempty"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	Contents       []Object       `xml:"Contents"`
	CommonPrefixes []CommonPrefix `xml:"CommonPrefixes"`
}

func (ListBucketResult) xmlRoot() string { return "ListBucketResult" }

// MarshalXML implements xml.Marshaler, applying EncodingType.
func (l ListBucketResult) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type plain ListBucketResult
	p := plain(l)
	if encodes(l.EncodingType) {
		p.Prefix = encodeName(p.Prefix)
		p.Marker = encodeName(p.Marker)
		p.NextMarker = encodeName(p.NextMarker)
		p.Delimiter = encodeName(p.Delimiter)
		p.Contents = encodeObjects(l.Contents)
		p.CommonPrefixes = encodePrefixes(l.CommonPrefixes)
	}
	return e.EncodeElement(p, start)
}

// ListBucketResultV2 is the ListObjectsV2 response (its root element is
// also ListBucketResult). Fields hold raw values; when EncodingType is
// "url", MarshalXML URL-encodes Prefix, Delimiter, StartAfter, keys and
// common prefixes, as S3 does; continuation tokens are opaque and left
// alone. MarshalXML sets KeyCount to the number of keys and common
// prefixes.
type ListBucketResultV2 struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	KeyCount              int            `xml:"KeyCount"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []Object       `xml:"Contents"`
	CommonPrefixes        []CommonPrefix `xml:"CommonPrefixes"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
}

func (ListBucketResultV2) xmlRoot() string { return "ListBucketResult" }

// MarshalXML implements xml.Marshaler, applying EncodingType and KeyCount.
func (l ListBucketResultV2) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type plain ListBucketResultV2
	p := plain(l)
	p.KeyCount = len(l.Contents) + len(l.CommonPrefixes)
	if encodes(l.EncodingType) {
		p.Prefix = encodeName(p.Prefix)
		p.StartAfter = encodeName(p.StartAfter)
		p.Delimiter = encodeName(p.Delimiter)
		p.Contents = encodeObjects(l.Contents)
		p.CommonPrefixes = encodePrefixes(l.CommonPrefixes)
	}
	return e.EncodeElement(p, start)
}

// ObjectVersion is one entry of ListVersionsResult: a version, or a delete
// marker when IsDeleteMarker is set. A delete marker has no ETag, Size,
// StorageClass or checksums; they are not marshalled for it.
type ObjectVersion struct {
	IsDeleteMarker    bool
	Key               string
	VersionID         string
	IsLatest          bool
	LastModified      Timestamp
	ETag              ETag
	Size              int64
	Owner             *Owner
	StorageClass      StorageClass
	ChecksumAlgorithm []string
	ChecksumType      string
}

type versionXML struct {
	Key               string       `xml:"Key"`
	VersionID         string       `xml:"VersionId"`
	IsLatest          bool         `xml:"IsLatest"`
	LastModified      Timestamp    `xml:"LastModified"`
	ETag              ETag         `xml:"ETag"`
	Size              int64        `xml:"Size"`
	Owner             *Owner       `xml:"Owner,omitempty"`
	StorageClass      StorageClass `xml:"StorageClass,omitempty"`
	ChecksumAlgorithm []string     `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string       `xml:"ChecksumType,omitempty"`
}

type deleteMarkerXML struct {
	Key          string    `xml:"Key"`
	VersionID    string    `xml:"VersionId"`
	IsLatest     bool      `xml:"IsLatest"`
	LastModified Timestamp `xml:"LastModified"`
	Owner        *Owner    `xml:"Owner,omitempty"`
}

// MarshalXML implements xml.Marshaler: the element is Version or
// DeleteMarker, whatever name start carries.
func (v ObjectVersion) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if v.IsDeleteMarker {
		return e.EncodeElement(deleteMarkerXML{v.Key, v.VersionID, v.IsLatest, v.LastModified, v.Owner},
			xml.StartElement{Name: xml.Name{Local: "DeleteMarker"}})
	}
	return e.EncodeElement(versionXML{v.Key, v.VersionID, v.IsLatest, v.LastModified, v.ETag, v.Size,
		v.Owner, v.StorageClass, v.ChecksumAlgorithm, v.ChecksumType},
		xml.StartElement{Name: xml.Name{Local: "Version"}})
}

// ListVersionsResult is the ListObjectVersions response. Versions holds
// versions and delete markers together in listing order (key ascending,
// then newest first), and they are marshalled interleaved in that order,
// as S3 sends them. Fields hold raw values; when EncodingType is "url",
// MarshalXML URL-encodes Prefix, Delimiter, KeyMarker, NextKeyMarker, keys
// and common prefixes, as S3 does.
type ListVersionsResult struct {
	XMLName             xml.Name        `xml:"ListVersionsResult"`
	Name                string          `xml:"Name"`
	Prefix              string          `xml:"Prefix"`
	KeyMarker           string          `xml:"KeyMarker"`
	VersionIDMarker     string          `xml:"VersionIdMarker"`
	NextKeyMarker       string          `xml:"NextKeyMarker,omitempty"`
	NextVersionIDMarker string          `xml:"NextVersionIdMarker,omitempty"`
	MaxKeys             int             `xml:"MaxKeys"`
	Delimiter           string          `xml:"Delimiter,omitempty"`
	EncodingType        string          `xml:"EncodingType,omitempty"`
	IsTruncated         bool            `xml:"IsTruncated"`
	Versions            []ObjectVersion `xml:"Version"`
	CommonPrefixes      []CommonPrefix  `xml:"CommonPrefixes"`
}

func (ListVersionsResult) xmlRoot() string { return "ListVersionsResult" }

// MarshalXML implements xml.Marshaler, applying EncodingType.
func (l ListVersionsResult) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type plain ListVersionsResult
	p := plain(l)
	if encodes(l.EncodingType) {
		p.Prefix = encodeName(p.Prefix)
		p.KeyMarker = encodeName(p.KeyMarker)
		p.NextKeyMarker = encodeName(p.NextKeyMarker)
		p.Delimiter = encodeName(p.Delimiter)
		p.Versions = append([]ObjectVersion(nil), l.Versions...)
		for i := range p.Versions {
			p.Versions[i].Key = encodeName(p.Versions[i].Key)
		}
		p.CommonPrefixes = encodePrefixes(l.CommonPrefixes)
	}
	return e.EncodeElement(p, start)
}

// UnmarshalXML implements xml.Unmarshaler, keeping versions and delete
// markers in document order. Values are kept as sent (still URL-encoded
// under EncodingType "url").
func (l *ListVersionsResult) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type entry struct {
		XMLName xml.Name
		versionXML
	}
	var aux struct {
		Name                string         `xml:"Name"`
		Prefix              string         `xml:"Prefix"`
		KeyMarker           string         `xml:"KeyMarker"`
		VersionIDMarker     string         `xml:"VersionIdMarker"`
		NextKeyMarker       string         `xml:"NextKeyMarker"`
		NextVersionIDMarker string         `xml:"NextVersionIdMarker"`
		MaxKeys             int            `xml:"MaxKeys"`
		Delimiter           string         `xml:"Delimiter"`
		EncodingType        string         `xml:"EncodingType"`
		IsTruncated         bool           `xml:"IsTruncated"`
		CommonPrefixes      []CommonPrefix `xml:"CommonPrefixes"`
		Entries             []entry        `xml:",any"`
	}
	if err := d.DecodeElement(&aux, &start); err != nil {
		return err
	}
	*l = ListVersionsResult{
		XMLName: start.Name, Name: aux.Name, Prefix: aux.Prefix,
		KeyMarker: aux.KeyMarker, VersionIDMarker: aux.VersionIDMarker,
		NextKeyMarker: aux.NextKeyMarker, NextVersionIDMarker: aux.NextVersionIDMarker,
		MaxKeys: aux.MaxKeys, Delimiter: aux.Delimiter, EncodingType: aux.EncodingType,
		IsTruncated: aux.IsTruncated, CommonPrefixes: aux.CommonPrefixes,
	}
	for _, en := range aux.Entries {
		var marker bool
		switch en.XMLName.Local {
		case "Version":
		case "DeleteMarker":
			marker = true
		default:
			continue
		}
		v := en.versionXML
		l.Versions = append(l.Versions, ObjectVersion{
			IsDeleteMarker: marker, Key: v.Key, VersionID: v.VersionID, IsLatest: v.IsLatest,
			LastModified: v.LastModified, ETag: v.ETag, Size: v.Size, Owner: v.Owner,
			StorageClass: v.StorageClass, ChecksumAlgorithm: v.ChecksumAlgorithm, ChecksumType: v.ChecksumType,
		})
	}
	return nil
}
