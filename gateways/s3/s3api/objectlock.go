package s3api

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// RetentionMode is an object lock retention mode.
type RetentionMode string

// The retention modes.
const (
	Governance RetentionMode = "GOVERNANCE"
	Compliance RetentionMode = "COMPLIANCE"
)

func (m RetentionMode) valid() bool { return m == Governance || m == Compliance }

// LegalHoldStatus is the state of an object's legal hold.
type LegalHoldStatus string

// The legal hold states.
const (
	LegalHoldOn  LegalHoldStatus = "ON"
	LegalHoldOff LegalHoldStatus = "OFF"
)

// Limits on a default retention period: S3 allows at most 100 years.
const (
	MaxRetentionDays  = 36500
	MaxRetentionYears = 100
)

// ObjectLockConfiguration is the PutObjectLockConfiguration body and the
// GetObjectLockConfiguration response.
type ObjectLockConfiguration struct {
	XMLName           xml.Name        `xml:"ObjectLockConfiguration"`
	ObjectLockEnabled string          `xml:"ObjectLockEnabled,omitempty"`
	Rule              *ObjectLockRule `xml:"Rule,omitempty"`
}

func (ObjectLockConfiguration) xmlRoot() string { return "ObjectLockConfiguration" }

// ObjectLockEnabled is the only value ObjectLockEnabled may take.
const ObjectLockEnabled = "Enabled"

// ObjectLockRule holds a bucket's default retention.
type ObjectLockRule struct {
	DefaultRetention *DefaultRetention `xml:"DefaultRetention"`
}

// DefaultRetention is the retention applied to new object versions that do
// not carry their own. Exactly one of Days and Years is set.
type DefaultRetention struct {
	Mode  RetentionMode `xml:"Mode"`
	Days  *int          `xml:"Days,omitempty"`
	Years *int          `xml:"Years,omitempty"`
}

// RetainUntil returns the retain-until date for a version created at
// created: calendar days or years later.
func (d DefaultRetention) RetainUntil(created time.Time) time.Time {
	switch {
	case d.Days != nil:
		return created.AddDate(0, 0, *d.Days)
	case d.Years != nil:
		return created.AddDate(*d.Years, 0, 0)
	}
	return created
}

// ParseObjectLockConfiguration parses a PutObjectLockConfiguration body of
// at most MaxConfigBodySize bytes. ObjectLockEnabled must be "Enabled". A
// Rule needs a DefaultRetention with a Mode of GOVERNANCE or COMPLIANCE and
// exactly one of Days and Years (else MalformedXML); that one must be
// positive and at most 100 years (else InvalidRetentionPeriod).
func ParseObjectLockConfiguration(r io.Reader) (ObjectLockConfiguration, error) {
	var c ObjectLockConfiguration
	if err := decodeBody(r, MaxConfigBodySize, &c); err != nil {
		return ObjectLockConfiguration{}, err
	}
	if c.ObjectLockEnabled != ObjectLockEnabled {
		return ObjectLockConfiguration{}, s3err.ErrMalformedXML.With("ObjectLockEnabled must be Enabled.")
	}
	if c.Rule == nil {
		return c, nil
	}
	d := c.Rule.DefaultRetention
	if d == nil {
		return ObjectLockConfiguration{}, s3err.ErrMalformedXML.With("An object lock Rule must contain a DefaultRetention.")
	}
	if !d.Mode.valid() {
		return ObjectLockConfiguration{}, s3err.ErrMalformedXML.With("DefaultRetention Mode must be GOVERNANCE or COMPLIANCE.")
	}
	switch {
	case (d.Days == nil) == (d.Years == nil):
		return ObjectLockConfiguration{}, s3err.ErrMalformedXML.With("DefaultRetention must contain exactly one of Days and Years.")
	case d.Days != nil && (*d.Days <= 0 || *d.Days > MaxRetentionDays):
		return ObjectLockConfiguration{}, s3err.ErrInvalidRetentionPeriod.With("Default retention period must be a positive integer of at most %d days.", MaxRetentionDays)
	case d.Years != nil && (*d.Years <= 0 || *d.Years > MaxRetentionYears):
		return ObjectLockConfiguration{}, s3err.ErrInvalidRetentionPeriod.With("Default retention period must be a positive integer of at most %d years.", MaxRetentionYears)
	}
	return c, nil
}

// Retention is the PutObjectRetention body and the GetObjectRetention
// response. Both fields are set, or, to remove a governance retention (with
// the bypass header), neither.
type Retention struct {
	XMLName         xml.Name      `xml:"Retention"`
	Mode            RetentionMode `xml:"Mode,omitempty"`
	RetainUntilDate *Timestamp    `xml:"RetainUntilDate,omitempty"`
}

func (Retention) xmlRoot() string { return "Retention" }

// ParseRetention parses a PutObjectRetention body of at most
// MaxConfigBodySize bytes: a Mode of GOVERNANCE or COMPLIANCE and an
// RFC 3339 RetainUntilDate, or neither; anything else is MalformedXML.
// Whether the date is in the future, and whether the change is allowed, is
// the caller's to check against site-agreed time.
func ParseRetention(r io.Reader) (Retention, error) {
	var ret Retention
	if err := decodeBody(r, MaxConfigBodySize, &ret); err != nil {
		return Retention{}, err
	}
	if ret.Mode == "" && ret.RetainUntilDate == nil {
		return ret, nil
	}
	if !ret.Mode.valid() {
		return Retention{}, s3err.ErrMalformedXML.With("Retention Mode must be GOVERNANCE or COMPLIANCE.")
	}
	if ret.RetainUntilDate == nil {
		return Retention{}, s3err.ErrMalformedXML.With("Retention must contain a RetainUntilDate.")
	}
	return ret, nil
}

// LegalHold is the PutObjectLegalHold body and the GetObjectLegalHold
// response.
type LegalHold struct {
	XMLName xml.Name        `xml:"LegalHold"`
	Status  LegalHoldStatus `xml:"Status"`
}

func (LegalHold) xmlRoot() string { return "LegalHold" }

// ParseLegalHold parses a PutObjectLegalHold body of at most
// MaxConfigBodySize bytes. Status must be ON or OFF, else MalformedXML.
func ParseLegalHold(r io.Reader) (LegalHold, error) {
	var h LegalHold
	if err := decodeBody(r, MaxConfigBodySize, &h); err != nil {
		return LegalHold{}, err
	}
	if h.Status != LegalHoldOn && h.Status != LegalHoldOff {
		return LegalHold{}, s3err.ErrMalformedXML.With("Legal hold Status must be ON or OFF.")
	}
	return h, nil
}

// Object lock request and response headers.
const (
	HeaderObjectLockMode            = "X-Amz-Object-Lock-Mode"
	HeaderObjectLockRetainUntilDate = "X-Amz-Object-Lock-Retain-Until-Date"
	HeaderObjectLockLegalHold       = "X-Amz-Object-Lock-Legal-Hold"
	HeaderBypassGovernanceRetention = "X-Amz-Bypass-Governance-Retention"
)

// ObjectLockHeaders are the object lock headers of PutObject, CopyObject and
// CreateMultipartUpload, and of GetObject and HeadObject responses.
type ObjectLockHeaders struct {
	// Mode and RetainUntilDate are both set or both zero.
	Mode            RetentionMode
	RetainUntilDate time.Time
	// LegalHold is empty when the header is absent.
	LegalHold LegalHoldStatus
	// BypassGovernance is x-amz-bypass-governance-retention: true. It is a
	// request header only; whether the caller may bypass is for the caller
	// to decide.
	BypassGovernance bool
}

// ParseObjectLockHeaders reads the object lock headers of h. Failures are
// InvalidArgument, as S3 answers: a mode without a date or a date without a
// mode, an unknown mode, a date that is not ISO 8601, a legal hold other
// than ON or OFF, a bypass value other than true or false. That the date is
// in the future and that the bucket has object lock enabled are for the
// caller to check.
func ParseObjectLockHeaders(h http.Header) (ObjectLockHeaders, error) {
	var l ObjectLockHeaders
	mode, until := h.Get(HeaderObjectLockMode), h.Get(HeaderObjectLockRetainUntilDate)
	if (mode == "") != (until == "") {
		return ObjectLockHeaders{}, s3err.ErrInvalidArgument.With("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied.")
	}
	if mode != "" {
		l.Mode = RetentionMode(mode)
		if !l.Mode.valid() {
			return ObjectLockHeaders{}, s3err.ErrInvalidArgument.With("Unknown wormMode directive %q.", mode)
		}
		t, err := ParseISO8601(until)
		if err != nil {
			return ObjectLockHeaders{}, s3err.ErrInvalidArgument.With("The retain until date must be provided in ISO 8601 format.")
		}
		l.RetainUntilDate = t
	}
	if v := h.Get(HeaderObjectLockLegalHold); v != "" {
		l.LegalHold = LegalHoldStatus(v)
		if l.LegalHold != LegalHoldOn && l.LegalHold != LegalHoldOff {
			return ObjectLockHeaders{}, s3err.ErrInvalidArgument.With("Legal Hold must be either of 'ON' or 'OFF'.")
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get(HeaderBypassGovernanceRetention))); v {
	case "", "false":
	case "true":
		l.BypassGovernance = true
	default:
		return ObjectLockHeaders{}, s3err.ErrInvalidArgument.With("x-amz-bypass-governance-retention must be true or false.")
	}
	return l, nil
}

// WriteHeaders sets the object lock response headers of GetObject and
// HeadObject for the fields that are set. BypassGovernance is not a
// response header and is not written.
func (l ObjectLockHeaders) WriteHeaders(h http.Header) {
	if l.Mode != "" {
		h.Set(HeaderObjectLockMode, string(l.Mode))
		h.Set(HeaderObjectLockRetainUntilDate, FormatISO8601(l.RetainUntilDate))
	}
	if l.LegalHold != "" {
		h.Set(HeaderObjectLockLegalHold, string(l.LegalHold))
	}
}
