package s3api

import (
	"encoding/xml"
	"io"
	"net/netip"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// ValidBucketName checks name against S3's rules for general purpose
// buckets and returns nil or InvalidBucketName saying which rule failed:
//   - 3 to 63 characters of lowercase letters, digits, '.' and '-';
//   - beginning and ending with a letter or digit;
//   - no "..", and, so that every dot-separated label is a DNS label usable
//     in virtual-hosted addressing, no ".-" or "-." either;
//   - not an IPv4 address such as 192.168.5.4;
//   - none of the reserved prefixes "xn--", "sthree-", "amzn-s3-demo-";
//   - none of the reserved suffixes "-s3alias", "--ol-s3", ".mrap",
//     "--x-s3", "--table-s3".
func ValidBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return s3err.ErrInvalidBucketName.With("Bucket name must be between 3 and 63 characters long.")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return s3err.ErrInvalidBucketName.With("Bucket name can consist only of lowercase letters, numbers, periods (.), and hyphens (-).")
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return s3err.ErrInvalidBucketName.With("Bucket name must begin and end with a letter or number.")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return s3err.ErrInvalidBucketName.With("Bucket name must not contain two adjacent periods, or a period next to a hyphen.")
	}
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		return s3err.ErrInvalidBucketName.With("Bucket name must not be formatted as an IP address.")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return s3err.ErrInvalidBucketName.With("Bucket name must not start with the reserved prefix %q.", p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return s3err.ErrInvalidBucketName.With("Bucket name must not end with the reserved suffix %q.", s)
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// CreateBucketConfiguration is the optional body of CreateBucket.
type CreateBucketConfiguration struct {
	XMLName xml.Name `xml:"CreateBucketConfiguration"`
	// LocationConstraint is the region the bucket is created in; empty
	// means us-east-1. Whether it names this gateway's region is for the
	// caller to decide.
	LocationConstraint string `xml:"LocationConstraint,omitempty"`
}

// ParseCreateBucketConfiguration parses a CreateBucket body of at most
// MaxConfigBodySize bytes. An empty body is valid and yields the zero value.
// A LocationConstraint that cannot be a region name (1 to 64 characters of
// lowercase letters, digits and '-', or the legacy "EU") is
// InvalidArgument; S3 answers InvalidLocationConstraint, which s3err lacks.
func ParseCreateBucketConfiguration(r io.Reader) (CreateBucketConfiguration, error) {
	data, err := readBody(r, MaxConfigBodySize)
	if err != nil {
		return CreateBucketConfiguration{}, err
	}
	var c CreateBucketConfiguration
	if len(strings.TrimSpace(string(data))) == 0 {
		return c, nil
	}
	if err := decodeBytes(data, &c); err != nil {
		return CreateBucketConfiguration{}, err
	}
	if c.LocationConstraint != "" && !validRegion(c.LocationConstraint) {
		return CreateBucketConfiguration{}, s3err.ErrInvalidArgument.With("The specified location-constraint is not valid.")
	}
	return c, nil
}

func validRegion(s string) bool {
	if s == "EU" {
		return true
	}
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// LocationConstraint is the GetBucketLocation response. Region is empty for
// us-east-1, as S3 answers.
type LocationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Region  string   `xml:",chardata"`
}

func (LocationConstraint) xmlRoot() string { return "LocationConstraint" }

// BucketInfo is one bucket of ListAllMyBucketsResult.
type BucketInfo struct {
	Name         string    `xml:"Name"`
	CreationDate Timestamp `xml:"CreationDate"`
	BucketRegion string    `xml:"BucketRegion,omitempty"`
}

// ListAllMyBucketsResult is the ListBuckets response. It always marshals a
// Buckets element, empty or not.
type ListAllMyBucketsResult struct {
	XMLName           xml.Name     `xml:"ListAllMyBucketsResult"`
	Owner             *Owner       `xml:"Owner,omitempty"`
	Buckets           []BucketInfo `xml:"Buckets>Bucket"`
	ContinuationToken string       `xml:"ContinuationToken,omitempty"`
	Prefix            string       `xml:"Prefix,omitempty"`
}

func (ListAllMyBucketsResult) xmlRoot() string { return "ListAllMyBucketsResult" }

// MarshalXML implements xml.Marshaler.
func (l ListAllMyBucketsResult) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	type buckets struct {
		Bucket []BucketInfo `xml:"Bucket"`
	}
	return e.EncodeElement(struct {
		Owner             *Owner  `xml:"Owner,omitempty"`
		Buckets           buckets `xml:"Buckets"`
		ContinuationToken string  `xml:"ContinuationToken,omitempty"`
		Prefix            string  `xml:"Prefix,omitempty"`
	}{l.Owner, buckets{l.Buckets}, l.ContinuationToken, l.Prefix}, start)
}

// VersioningStatus is the versioning state of a bucket.
type VersioningStatus string

// The versioning states a client may set. A bucket that never had
// versioning enabled has the empty status.
const (
	VersioningEnabled   VersioningStatus = "Enabled"
	VersioningSuspended VersioningStatus = "Suspended"
)

// VersioningConfiguration is the PutBucketVersioning body and the
// GetBucketVersioning response. For a bucket that never had versioning
// enabled, the response is the zero value, an empty element.
type VersioningConfiguration struct {
	XMLName   xml.Name         `xml:"VersioningConfiguration"`
	Status    VersioningStatus `xml:"Status,omitempty"`
	MFADelete string           `xml:"MfaDelete,omitempty"`
}

func (VersioningConfiguration) xmlRoot() string { return "VersioningConfiguration" }

// ParseVersioningConfiguration parses a PutBucketVersioning body of at most
// MaxConfigBodySize bytes. Status must be Enabled or Suspended (S3 answers
// IllegalVersioningConfigurationException, which s3err lacks; this is
// MalformedXML). MfaDelete may be absent or Disabled; ferry has no MFA, so
// Enabled is NotImplemented.
func ParseVersioningConfiguration(r io.Reader) (VersioningConfiguration, error) {
	var c VersioningConfiguration
	if err := decodeBody(r, MaxConfigBodySize, &c); err != nil {
		return VersioningConfiguration{}, err
	}
	switch c.Status {
	case VersioningEnabled, VersioningSuspended:
	default:
		return VersioningConfiguration{}, s3err.ErrMalformedXML.With("The versioning Status must be Enabled or Suspended.")
	}
	switch c.MFADelete {
	case "", "Disabled":
	case "Enabled":
		return VersioningConfiguration{}, s3err.ErrNotImplemented.With("MFA delete is not supported.")
	default:
		return VersioningConfiguration{}, s3err.ErrMalformedXML.With("MfaDelete must be Enabled or Disabled.")
	}
	return c, nil
}
