package s3api

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Namespace is the XML namespace of every S3 document.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Limits on request bodies. A body longer than its limit is rejected with
// MaxMessageLengthExceeded before it is parsed.
const (
	// MaxConfigBodySize bounds the configuration bodies: CreateBucket,
	// versioning, object lock, lifecycle, tagging, retention and legal hold.
	// The largest of them, a lifecycle configuration of 1000 rules, fits
	// in well under 1 MiB.
	MaxConfigBodySize = 1 << 20
	// MaxCompleteMultipartBodySize bounds a CompleteMultipartUpload body:
	// 10000 parts of about 400 bytes each (a quoted ETag, the part number
	// and every checksum element, indented) is about 4 MiB.
	MaxCompleteMultipartBodySize = 8 << 20
	// MaxDeleteBodySize bounds a DeleteObjects body: 1000 objects, each a
	// key of up to 1024 bytes that XML escaping may grow about fivefold,
	// plus a version id and the conditional elements.
	MaxDeleteBodySize = 8 << 20
)

// Response is a document the gateway sends as an XML response body. Every
// response type of this package implements it; Marshal writes one.
type Response interface {
	// xmlRoot returns the local name of the document's root element.
	xmlRoot() string
}

// Marshal returns v as a complete S3 XML response body: the XML declaration,
// then the root element in the S3 namespace. The only errors are
// InternalError (a value encoding/xml cannot represent).
func Marshal(v Response) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Space: Namespace, Local: v.xmlRoot()}}
	if err := enc.EncodeElement(v, start); err != nil {
		return nil, s3err.ErrInternalError.Wrap(err)
	}
	if err := enc.Close(); err != nil {
		return nil, s3err.ErrInternalError.Wrap(err)
	}
	return buf.Bytes(), nil
}

// readBody reads all of r, failing with MaxMessageLengthExceeded when it
// holds more than limit bytes.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		// A verifying reader's own verdict (BadDigest, SignatureDoesNotMatch)
		// stands; anything else cut the body short.
		var e *s3err.Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, s3err.ErrIncompleteBody.Wrap(err)
	}
	if int64(len(data)) > limit {
		return nil, s3err.ErrMaxMessageLengthExceeded.With("Your request was too big: the body exceeds %d bytes.", limit)
	}
	return data, nil
}

// decodeBody reads at most limit bytes of r and decodes them as one XML
// document into v. Anything but whitespace, comments and processing
// instructions after the root element makes the body malformed, as does an
// empty body. Namespaces are not checked: clients send the S3 namespace or
// none at all.
func decodeBody(r io.Reader, limit int64, v any) error {
	data, err := readBody(r, limit)
	if err != nil {
		return err
	}
	return decodeBytes(data, v)
}

func decodeBytes(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		// S3 answers MissingRequestBodyError, which s3err does not carry.
		return s3err.ErrMalformedXML.With("Request body is empty.")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	if err := d.Decode(v); err != nil {
		var se *s3err.Error
		if errors.As(err, &se) {
			return se
		}
		return s3err.ErrMalformedXML.Wrap(err)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return s3err.ErrMalformedXML.Wrap(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return s3err.ErrMalformedXML.With("The XML you provided has text after the root element.")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return s3err.ErrMalformedXML.With("The XML you provided has content after the root element.")
		}
	}
}

// charsetReader accepts the declared encodings that are subsets of UTF-8.
// encoding/xml itself accepts UTF-8 in any letter case.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii":
		return in, nil
	}
	return nil, errors.New("s3api: unsupported XML encoding " + label)
}

// ISO8601Layout is how S3 writes timestamps in XML and in the
// x-amz-object-lock-retain-until-date header: UTC with milliseconds.
const ISO8601Layout = "2006-01-02T15:04:05.000Z"

// FormatISO8601 formats t as S3 does in XML bodies.
func FormatISO8601(t time.Time) string { return t.UTC().Format(ISO8601Layout) }

// ParseISO8601 parses an RFC 3339 timestamp with or without fractional
// seconds, as clients send them in XML bodies and headers.
func ParseISO8601(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, s3err.ErrInvalidArgument.With("%q is not an ISO 8601 timestamp.", s).Wrap(err)
	}
	return t, nil
}

// Timestamp is a time as it appears in S3 XML: it marshals as
// "2006-01-02T15:04:05.000Z" and unmarshals from any RFC 3339 form.
type Timestamp time.Time

// Time returns t as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// MarshalText implements encoding.TextMarshaler.
func (t Timestamp) MarshalText() ([]byte, error) {
	return []byte(FormatISO8601(time.Time(t))), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Timestamp) UnmarshalText(b []byte) error {
	v, err := ParseISO8601(string(b))
	if err != nil {
		return s3err.ErrMalformedXML.With("%q is not an ISO 8601 timestamp.", string(b))
	}
	*t = Timestamp(v)
	return nil
}

// ETag is an entity tag held without its quotes. It marshals quoted, as S3
// writes ETags in XML, and unmarshals quoted or not.
type ETag string

// MarshalText implements encoding.TextMarshaler.
func (e ETag) MarshalText() ([]byte, error) { return []byte(QuoteETag(string(e))), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (e *ETag) UnmarshalText(b []byte) error {
	*e = ETag(UnquoteETag(string(b)))
	return nil
}

// Owner is the owner or initiator element of listings.
type Owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

// Checksums are the additional checksums S3 reports for objects and parts,
// each base64 of the big-endian digest. Empty ones are omitted.
type Checksums struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}
