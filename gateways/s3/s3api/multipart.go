package s3api

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Multipart limits, as S3 enforces them.
const (
	MinPartNumber = 1
	MaxPartNumber = 10000
	// MaxUploadIDLength bounds the upload ids ValidUploadID accepts.
	MaxUploadIDLength = 1024
)

// CompleteMultipartUpload is the CompleteMultipartUpload request body.
type CompleteMultipartUpload struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []CompletedPart `xml:"Part"`
}

// CompletedPart names one uploaded part. ETag is held unquoted, whether the
// client quoted it or not.
type CompletedPart struct {
	PartNumber int  `xml:"PartNumber"`
	ETag       ETag `xml:"ETag"`
	Checksums
}

// ParseCompleteMultipartUpload parses a CompleteMultipartUpload body of at
// most MaxCompleteMultipartBodySize bytes. It needs at least one part
// (MalformedXML); part numbers are 1 to 10000 (InvalidArgument, S3's
// message) and strictly ascending (InvalidPartOrder); every part has an
// ETag (InvalidPart). Whether the parts exist and match is the caller's to
// check.
func ParseCompleteMultipartUpload(r io.Reader) (CompleteMultipartUpload, error) {
	var c CompleteMultipartUpload
	if err := decodeBody(r, MaxCompleteMultipartBodySize, &c); err != nil {
		return CompleteMultipartUpload{}, err
	}
	if len(c.Parts) == 0 {
		return CompleteMultipartUpload{}, s3err.ErrMalformedXML.With("The XML you provided was not well-formed or did not validate against our published schema: no Part.")
	}
	prev := 0
	for _, p := range c.Parts {
		if p.PartNumber < MinPartNumber || p.PartNumber > MaxPartNumber {
			return CompleteMultipartUpload{}, s3err.ErrTooManyParts
		}
		if p.PartNumber <= prev {
			return CompleteMultipartUpload{}, s3err.ErrInvalidPartOrder
		}
		prev = p.PartNumber
		if p.ETag == "" {
			return CompleteMultipartUpload{}, s3err.ErrInvalidPart.With("Part %d has no ETag.", p.PartNumber)
		}
	}
	return c, nil
}

// InitiateMultipartUploadResult is the CreateMultipartUpload response.
type InitiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (InitiateMultipartUploadResult) xmlRoot() string { return "InitiateMultipartUploadResult" }

// CompleteMultipartUploadResult is the CompleteMultipartUpload response.
type CompleteMultipartUploadResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     ETag     `xml:"ETag"`
	Checksums
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

func (CompleteMultipartUploadResult) xmlRoot() string { return "CompleteMultipartUploadResult" }

// Part is one part of ListPartsResult.
type Part struct {
	PartNumber   int       `xml:"PartNumber"`
	LastModified Timestamp `xml:"LastModified"`
	ETag         ETag      `xml:"ETag"`
	Size         int64     `xml:"Size"`
	Checksums
}

// ListPartsResult is the ListParts response.
type ListPartsResult struct {
	XMLName              xml.Name     `xml:"ListPartsResult"`
	Bucket               string       `xml:"Bucket"`
	Key                  string       `xml:"Key"`
	UploadID             string       `xml:"UploadId"`
	PartNumberMarker     int          `xml:"PartNumberMarker"`
	NextPartNumberMarker int          `xml:"NextPartNumberMarker"`
	MaxParts             int          `xml:"MaxParts"`
	IsTruncated          bool         `xml:"IsTruncated"`
	Parts                []Part       `xml:"Part"`
	Initiator            *Owner       `xml:"Initiator,omitempty"`
	Owner                *Owner       `xml:"Owner,omitempty"`
	StorageClass         StorageClass `xml:"StorageClass,omitempty"`
	ChecksumAlgorithm    string       `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string       `xml:"ChecksumType,omitempty"`
}

func (ListPartsResult) xmlRoot() string { return "ListPartsResult" }

// Upload is one upload of ListMultipartUploadsResult.
type Upload struct {
	Key               string       `xml:"Key"`
	UploadID          string       `xml:"UploadId"`
	Initiator         *Owner       `xml:"Initiator,omitempty"`
	Owner             *Owner       `xml:"Owner,omitempty"`
	StorageClass      StorageClass `xml:"StorageClass,omitempty"`
	Initiated         Timestamp    `xml:"Initiated"`
	ChecksumAlgorithm string       `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string       `xml:"ChecksumType,omitempty"`
}

// ListMultipartUploadsResult is the ListMultipartUploads response. Fields
// hold raw values; when EncodingType is "url", MarshalXML URL-encodes
// Prefix, Delimiter, KeyMarker, NextKeyMarker, upload keys and common
// prefixes, as S3 does.
type ListMultipartUploadsResult struct {
	XMLName            xml.Name       `xml:"ListMultipartUploadsResult"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker,omitempty"`
	Delimiter          string         `xml:"Delimiter,omitempty"`
	Prefix             string         `xml:"Prefix"`
	EncodingType       string         `xml:"EncodingType,omitempty"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []Upload       `xml:"Upload"`
	CommonPrefixes     []CommonPrefix `xml:"CommonPrefixes"`
}

func (ListMultipartUploadsResult) xmlRoot() string { return "ListMultipartUploadsResult" }

// MarshalXML implements xml.Marshaler, applying EncodingType.
func (l ListMultipartUploadsResult) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type plain ListMultipartUploadsResult
	p := plain(l)
	if encodes(l.EncodingType) {
		p.KeyMarker = encodeName(p.KeyMarker)
		p.NextKeyMarker = encodeName(p.NextKeyMarker)
		p.Delimiter = encodeName(p.Delimiter)
		p.Prefix = encodeName(p.Prefix)
		p.Uploads = append([]Upload(nil), l.Uploads...)
		for i := range p.Uploads {
			p.Uploads[i].Key = encodeName(p.Uploads[i].Key)
		}
		p.CommonPrefixes = encodePrefixes(l.CommonPrefixes)
	}
	return e.EncodeElement(p, start)
}

// ParsePartNumber parses the partNumber query parameter of UploadPart,
// UploadPartCopy and GetObject: an integer from 1 to 10000, else
// InvalidArgument with S3's message.
func ParsePartNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < MinPartNumber || n > MaxPartNumber {
		return 0, s3err.ErrTooManyParts
	}
	return n, nil
}

// ValidUploadID checks the uploadId query parameter: 1 to 1024 printable
// ASCII characters without spaces. Anything else cannot name an upload, so
// it is NoSuchUpload, as S3 answers for a garbled id.
func ValidUploadID(id string) error {
	if id == "" || len(id) > MaxUploadIDLength || !printableASCII(id) {
		return s3err.ErrNoSuchUpload
	}
	return nil
}

// ValidVersionID checks a versionId query parameter or element: "null" or
// 1 to 1024 printable ASCII characters without spaces, else InvalidArgument.
func ValidVersionID(id string) error {
	if id == "" || len(id) > MaxKeyLength || !printableASCII(id) {
		return s3err.ErrInvalidArgument.With("Invalid version id specified.")
	}
	return nil
}

func printableASCII(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) < 0
}
