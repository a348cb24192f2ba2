package s3api

import (
	"encoding/xml"
	"io"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// MaxDeleteObjects is the most objects one DeleteObjects request may name.
const MaxDeleteObjects = 1000

// Delete is the DeleteObjects request body.
type Delete struct {
	XMLName xml.Name           `xml:"Delete"`
	Objects []ObjectIdentifier `xml:"Object"`
	Quiet   bool               `xml:"Quiet"`
}

// ObjectIdentifier names one object to delete. ETag, LastModifiedTime and
// Size are S3's optional per-object delete conditions; they are parsed for
// the caller to apply.
type ObjectIdentifier struct {
	Key              string     `xml:"Key"`
	VersionID        string     `xml:"VersionId,omitempty"`
	ETag             ETag       `xml:"ETag,omitempty"`
	LastModifiedTime *Timestamp `xml:"LastModifiedTime,omitempty"`
	Size             *int64     `xml:"Size,omitempty"`
}

// ParseDelete parses a DeleteObjects body of at most MaxDeleteBodySize
// bytes. It must name 1 to 1000 objects, each with a non-empty Key, else
// MalformedXML (for an empty key S3 answers UserKeyMustBeSpecified, which
// s3err lacks). Keys and version ids are not validated further: the caller
// reports a bad one as that object's Error in the DeleteResult, as S3
// does.
func ParseDelete(r io.Reader) (Delete, error) {
	var d Delete
	if err := decodeBody(r, MaxDeleteBodySize, &d); err != nil {
		return Delete{}, err
	}
	if len(d.Objects) == 0 || len(d.Objects) > MaxDeleteObjects {
		return Delete{}, s3err.ErrMalformedXML.With("A Delete request must name between 1 and %d objects.", MaxDeleteObjects)
	}
	for _, o := range d.Objects {
		if o.Key == "" {
			return Delete{}, s3err.ErrMalformedXML.With("Every Object in a Delete request must have a Key.")
		}
	}
	return d, nil
}

// DeleteResult is the DeleteObjects response. In quiet mode the caller
// leaves Deleted empty and reports only errors.
type DeleteResult struct {
	XMLName xml.Name        `xml:"DeleteResult"`
	Deleted []DeletedObject `xml:"Deleted"`
	Errors  []DeleteError   `xml:"Error"`
}

func (DeleteResult) xmlRoot() string { return "DeleteResult" }

// DeletedObject reports one object deleted. DeleteMarker and
// DeleteMarkerVersionID are set when the delete created a delete marker,
// or removed one.
type DeletedObject struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

// DeleteError reports one object that could not be deleted.
type DeleteError struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

// NewDeleteError returns the DeleteError for an object whose delete failed
// with err; an error that is not an *s3err.Error is reported as
// InternalError.
func NewDeleteError(key, versionID string, err error) DeleteError {
	e := s3err.As(err)
	return DeleteError{Key: key, VersionID: versionID, Code: e.Code, Message: e.Message}
}
