package s3api

import (
	"encoding/xml"
	"io"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Lifecycle limits, as S3 enforces them.
const (
	MaxLifecycleRules          = 1000
	MaxLifecycleRuleIDLength   = 255
	MaxNewerNoncurrentVersions = 100
)

// RuleStatus says whether a lifecycle rule applies.
type RuleStatus string

// The rule states.
const (
	RuleEnabled  RuleStatus = "Enabled"
	RuleDisabled RuleStatus = "Disabled"
)

// LifecycleConfiguration is the PutBucketLifecycleConfiguration body and the
// GetBucketLifecycleConfiguration response.
type LifecycleConfiguration struct {
	XMLName xml.Name        `xml:"LifecycleConfiguration"`
	Rules   []LifecycleRule `xml:"Rule"`
}

func (LifecycleConfiguration) xmlRoot() string { return "LifecycleConfiguration" }

// LifecycleRule is one rule. It selects objects by Filter or, in the legacy
// form, by Prefix (exactly one of the two is present), and holds at least
// one action.
type LifecycleRule struct {
	ID     string           `xml:"ID,omitempty"`
	Filter *LifecycleFilter `xml:"Filter,omitempty"`
	// Prefix is the legacy rule-level prefix.
	Prefix *string    `xml:"Prefix,omitempty"`
	Status RuleStatus `xml:"Status"`

	Expiration                     *LifecycleExpiration            `xml:"Expiration,omitempty"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `xml:"NoncurrentVersionExpiration,omitempty"`
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `xml:"AbortIncompleteMultipartUpload,omitempty"`

	// transitions counts Transition and NoncurrentVersionTransition
	// elements, which ferry does not support.
	transitions int
}

// UnmarshalXML implements xml.Unmarshaler; it notes transition actions so
// that parsing can decline them instead of silently dropping them.
func (r *LifecycleRule) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain LifecycleRule
	var aux struct {
		plain
		Transition                  []struct{} `xml:"Transition"`
		NoncurrentVersionTransition []struct{} `xml:"NoncurrentVersionTransition"`
	}
	if err := d.DecodeElement(&aux, &start); err != nil {
		return err
	}
	*r = LifecycleRule(aux.plain)
	r.transitions = len(aux.Transition) + len(aux.NoncurrentVersionTransition)
	return nil
}

// LifecycleFilter selects the objects a rule applies to. At most one field
// is set; an empty filter selects every object.
type LifecycleFilter struct {
	Prefix                *string       `xml:"Prefix,omitempty"`
	Tag                   *Tag          `xml:"Tag,omitempty"`
	And                   *LifecycleAnd `xml:"And,omitempty"`
	ObjectSizeGreaterThan *int64        `xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *int64        `xml:"ObjectSizeLessThan,omitempty"`
}

// LifecycleAnd combines predicates that must all hold.
type LifecycleAnd struct {
	Prefix                *string `xml:"Prefix,omitempty"`
	Tags                  []Tag   `xml:"Tag"`
	ObjectSizeGreaterThan *int64  `xml:"ObjectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *int64  `xml:"ObjectSizeLessThan,omitempty"`
}

// LifecycleExpiration expires current versions. Exactly one field is set.
type LifecycleExpiration struct {
	Date                      *Timestamp `xml:"Date,omitempty"`
	Days                      *int       `xml:"Days,omitempty"`
	ExpiredObjectDeleteMarker *bool      `xml:"ExpiredObjectDeleteMarker,omitempty"`
}

// NoncurrentVersionExpiration expires noncurrent versions NoncurrentDays
// after they became noncurrent, keeping the NewerNoncurrentVersions newest.
type NoncurrentVersionExpiration struct {
	NoncurrentDays          *int `xml:"NoncurrentDays,omitempty"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions,omitempty"`
}

// AbortIncompleteMultipartUpload aborts uploads DaysAfterInitiation days
// after they began.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int `xml:"DaysAfterInitiation,omitempty"`
}

// ParseLifecycleConfiguration parses a PutBucketLifecycleConfiguration body
// of at most MaxConfigBodySize bytes and validates it as S3 does:
//   - 1 to 1000 rules (none is MalformedXML, more is InvalidArgument);
//   - IDs of at most 255 characters, unique among the rules that have one
//     (InvalidArgument); rules without an ID keep an empty one;
//   - Status Enabled or Disabled, and exactly one of Filter and the legacy
//     Prefix (MalformedXML); a Filter holds at most one of Prefix, Tag, And,
//     ObjectSizeGreaterThan, ObjectSizeLessThan (MalformedXML), an And at
//     least one predicate; prefixes are at most 1024 bytes, tags valid
//     (InvalidTag) and not repeated in an And (InvalidRequest), sizes not
//     negative and, in an And, greater-than below less-than
//     (InvalidArgument);
//   - at least one action (InvalidRequest); Transition and
//     NoncurrentVersionTransition are NotImplemented, ferry having a single
//     storage tier;
//   - Expiration holds exactly one of Days, Date, ExpiredObjectDeleteMarker
//     (MalformedXML); Days positive and Date at midnight UTC
//     (InvalidArgument); ExpiredObjectDeleteMarker and
//     AbortIncompleteMultipartUpload do not combine with a tag filter
//     (InvalidRequest);
//   - NoncurrentDays and DaysAfterInitiation present (MalformedXML) and
//     positive, NewerNoncurrentVersions 1 to 100 (InvalidArgument).
func ParseLifecycleConfiguration(r io.Reader) (LifecycleConfiguration, error) {
	var c LifecycleConfiguration
	if err := decodeBody(r, MaxConfigBodySize, &c); err != nil {
		return LifecycleConfiguration{}, err
	}
	if err := c.Validate(); err != nil {
		return LifecycleConfiguration{}, err
	}
	return c, nil
}

// Validate checks c as ParseLifecycleConfiguration does.
func (c LifecycleConfiguration) Validate() error {
	if len(c.Rules) == 0 {
		return s3err.ErrMalformedXML.With("A lifecycle configuration must contain at least one Rule.")
	}
	if len(c.Rules) > MaxLifecycleRules {
		return s3err.ErrInvalidArgument.With("A lifecycle configuration can have at most %d rules.", MaxLifecycleRules)
	}
	seen := make(map[string]bool, len(c.Rules))
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.ID != "" {
			if seen[r.ID] {
				return s3err.ErrInvalidArgument.With("Rule ID must be unique. Found same ID for more than one rule.")
			}
			seen[r.ID] = true
		}
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (r *LifecycleRule) validate() error {
	if len(r.ID) > MaxLifecycleRuleIDLength {
		return s3err.ErrInvalidArgument.With("ID length should not exceed allowed limit of %d.", MaxLifecycleRuleIDLength)
	}
	if r.Status != RuleEnabled && r.Status != RuleDisabled {
		return s3err.ErrMalformedXML.With("Rule Status must be Enabled or Disabled.")
	}
	if (r.Filter == nil) == (r.Prefix == nil) {
		return s3err.ErrMalformedXML.With("A lifecycle Rule must contain exactly one of Filter and Prefix.")
	}
	if r.Prefix != nil && len(*r.Prefix) > MaxKeyLength {
		return s3err.ErrInvalidArgument.With("The lifecycle rule prefix is longer than %d bytes.", MaxKeyLength)
	}
	hasTags := false
	if r.Filter != nil {
		var err error
		if hasTags, err = r.Filter.validate(); err != nil {
			return err
		}
	}
	if r.transitions > 0 {
		return s3err.ErrNotImplemented.With("Lifecycle transitions are not supported: ferry has one storage tier.")
	}
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil {
		return s3err.ErrInvalidRequest.With("At least one action needs to be specified in a rule.")
	}
	if e := r.Expiration; e != nil {
		n := 0
		for _, set := range []bool{e.Date != nil, e.Days != nil, e.ExpiredObjectDeleteMarker != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return s3err.ErrMalformedXML.With("Expiration must contain exactly one of Days, Date and ExpiredObjectDeleteMarker.")
		}
		if e.Days != nil && *e.Days <= 0 {
			return s3err.ErrInvalidArgument.With("'Days' for Expiration action must be a positive integer.")
		}
		if e.Date != nil {
			t := e.Date.Time().UTC()
			if !t.Equal(t.Truncate(24 * time.Hour)) {
				return s3err.ErrInvalidArgument.With("'Date' must be at midnight GMT.")
			}
		}
		if e.ExpiredObjectDeleteMarker != nil && hasTags {
			return s3err.ErrInvalidRequest.With("ExpiredObjectDeleteMarker cannot be specified with tags.")
		}
	}
	if n := r.NoncurrentVersionExpiration; n != nil {
		if n.NoncurrentDays == nil {
			return s3err.ErrMalformedXML.With("NoncurrentVersionExpiration must contain NoncurrentDays.")
		}
		if *n.NoncurrentDays <= 0 {
			return s3err.ErrInvalidArgument.With("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer.")
		}
		if v := n.NewerNoncurrentVersions; v != nil && (*v < 1 || *v > MaxNewerNoncurrentVersions) {
			return s3err.ErrInvalidArgument.With("NewerNoncurrentVersions must be between 1 and %d.", MaxNewerNoncurrentVersions)
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation == nil {
			return s3err.ErrMalformedXML.With("AbortIncompleteMultipartUpload must contain DaysAfterInitiation.")
		}
		if *a.DaysAfterInitiation <= 0 {
			return s3err.ErrInvalidArgument.With("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer.")
		}
		if hasTags {
			return s3err.ErrInvalidRequest.With("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	return nil
}

// validate checks the filter and reports whether it selects by tag.
func (f *LifecycleFilter) validate() (hasTags bool, err error) {
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return false, s3err.ErrMalformedXML.With("A lifecycle Filter may contain only one of Prefix, Tag, And, ObjectSizeGreaterThan and ObjectSizeLessThan; combine them with And.")
	}
	if err := validPrefix(f.Prefix); err != nil {
		return false, err
	}
	if err := validSizes(f.ObjectSizeGreaterThan, f.ObjectSizeLessThan); err != nil {
		return false, err
	}
	if f.Tag != nil {
		return true, ValidateTag(*f.Tag)
	}
	if a := f.And; a != nil {
		if a.Prefix == nil && len(a.Tags) == 0 && a.ObjectSizeGreaterThan == nil && a.ObjectSizeLessThan == nil {
			return false, s3err.ErrMalformedXML.With("A lifecycle And must contain at least one predicate.")
		}
		if err := validPrefix(a.Prefix); err != nil {
			return false, err
		}
		if err := validSizes(a.ObjectSizeGreaterThan, a.ObjectSizeLessThan); err != nil {
			return false, err
		}
		if a.ObjectSizeGreaterThan != nil && a.ObjectSizeLessThan != nil && *a.ObjectSizeGreaterThan >= *a.ObjectSizeLessThan {
			return false, s3err.ErrInvalidArgument.With("ObjectSizeGreaterThan must be less than ObjectSizeLessThan.")
		}
		for i, t := range a.Tags {
			if err := ValidateTag(t); err != nil {
				return false, err
			}
			for _, u := range a.Tags[:i] {
				if u.Key == t.Key {
					return false, s3err.ErrInvalidRequest.With("Duplicate Tag Keys are not allowed.")
				}
			}
		}
		return len(a.Tags) > 0, nil
	}
	return false, nil
}

func validPrefix(p *string) error {
	if p != nil && len(*p) > MaxKeyLength {
		return s3err.ErrInvalidArgument.With("The lifecycle filter prefix is longer than %d bytes.", MaxKeyLength)
	}
	return nil
}

func validSizes(gt, lt *int64) error {
	if gt != nil && *gt < 0 || lt != nil && *lt < 0 {
		return s3err.ErrInvalidArgument.With("Object size filters must not be negative.")
	}
	return nil
}
