package s3err

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
)

// Error is one S3 error: a code, its HTTP status and a message for people.
type Error struct {
	Code       string
	HTTPStatus int
	Message    string
	// Err, when set, is the underlying cause (kept for logs, not sent).
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("s3: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("s3: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so
// errors.Is(err, s3err.ErrNoSuchKey) holds for any NoSuchKey error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e carrying a more specific message.
func (e *Error) With(format string, args ...any) *Error {
	c := *e
	c.Message = fmt.Sprintf(format, args...)
	return &c
}

// Wrap returns a copy of e that wraps cause.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// As returns err as an *Error, or ErrInternalError wrapping it.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternalError.Wrap(err)
}

// Body is the XML document of an error response.
type Body struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId,omitempty"`
	// Extra fields some codes carry (e.g. BucketName, Key, Region).
	BucketName string `xml:"BucketName,omitempty"`
	Key        string `xml:"Key,omitempty"`
}

// Write sends err as an S3 error response. HEAD requests get the status
// without a body, as S3 does.
func Write(w http.ResponseWriter, r *http.Request, err error, requestID string) {
	e := As(err)
	w.Header().Set("x-amz-request-id", requestID)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.HTTPStatus)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.HTTPStatus)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(Body{Code: e.Code, Message: e.Message, Resource: r.URL.Path, RequestID: requestID})
}

func newErr(code string, status int, msg string) *Error {
	return &Error{Code: code, HTTPStatus: status, Message: msg}
}

// The codes ferry returns, with S3's statuses and default messages.
var (
	ErrAccessDenied                  = newErr("AccessDenied", http.StatusForbidden, "Access Denied.")
	ErrAuthorizationHeaderMalformed  = newErr("AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed.")
	ErrAuthorizationQueryParamsError = newErr("AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter.")
	ErrBadDigest                     = newErr("BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what was received.")
	ErrBucketAlreadyExists           = newErr("BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available.")
	ErrBucketAlreadyOwnedByYou       = newErr("BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it.")
	ErrBucketNotEmpty                = newErr("BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty.")
	ErrEntityTooLarge                = newErr("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size.")
	ErrEntityTooSmall                = newErr("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size.")
	ErrExpiredToken                  = newErr("ExpiredToken", http.StatusBadRequest, "The provided token has expired.")
	ErrIncompleteBody                = newErr("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	ErrInternalError                 = newErr("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	ErrInvalidAccessKeyID            = newErr("InvalidAccessKeyId", http.StatusForbidden, "The AWS access key ID you provided does not exist in our records.")
	ErrInvalidArgument               = newErr("InvalidArgument", http.StatusBadRequest, "Invalid argument.")
	ErrInvalidBucketName             = newErr("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid.")
	ErrInvalidBucketState            = newErr("InvalidBucketState", http.StatusConflict, "The request is not valid with the current state of the bucket.")
	ErrInvalidDigest                 = newErr("InvalidDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified is not valid.")
	ErrInvalidEncryptionAlgorithm    = newErr("InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The encryption request you specified is not valid.")
	ErrInvalidObjectState            = newErr("InvalidObjectState", http.StatusForbidden, "The operation is not valid for the current state of the object.")
	ErrInvalidPart                   = newErr("InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found, or did not match its entity tag.")
	ErrInvalidPartOrder              = newErr("InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order.")
	ErrInvalidRange                  = newErr("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable.")
	ErrInvalidRequest                = newErr("InvalidRequest", http.StatusBadRequest, "Invalid request.")
	ErrInvalidRetentionPeriod        = newErr("InvalidRetentionPeriod", http.StatusBadRequest, "The retention period is not valid.")
	ErrInvalidStorageClass           = newErr("InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid.")
	ErrInvalidTag                    = newErr("InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag.")
	ErrInvalidToken                  = newErr("InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	ErrKeyTooLong                    = newErr("KeyTooLongError", http.StatusBadRequest, "Your key is too long.")
	ErrMalformedXML                  = newErr("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	ErrMaxMessageLengthExceeded      = newErr("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big.")
	ErrMetadataTooLarge              = newErr("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size.")
	ErrMethodNotAllowed              = newErr("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")
	ErrMissingContentLength          = newErr("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
	ErrMissingSecurityHeader         = newErr("MissingSecurityHeader", http.StatusBadRequest, "Your request is missing a required header.")
	ErrNoSuchBucket                  = newErr("NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist.")
	ErrNoSuchBucketPolicy            = newErr("NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist.")
	ErrNoSuchKey                     = newErr("NoSuchKey", http.StatusNotFound, "The specified key does not exist.")
	ErrNoSuchLifecycleConfiguration  = newErr("NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist.")
	ErrNoSuchObjectLockConfiguration = newErr("ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket.")
	ErrNoSuchTagSet                  = newErr("NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist.")
	ErrNoSuchUpload                  = newErr("NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist.")
	ErrNoSuchVersion                 = newErr("NoSuchVersion", http.StatusNotFound, "The specified version does not exist.")
	ErrNoSuchObjectLegalHold         = newErr("NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have an ObjectLock configuration.")
	ErrNotImplemented                = newErr("NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented.")
	ErrNotModified                   = newErr("NotModified", http.StatusNotModified, "Not Modified.")
	ErrPreconditionFailed            = newErr("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the preconditions you specified did not hold.")
	ErrRequestHeaderSectionTooLarge  = newErr("RequestHeaderSectionTooLarge", http.StatusBadRequest, "Your request header section exceeds the maximum allowed size.")
	ErrRequestTimeTooSkewed          = newErr("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large.")
	ErrServiceUnavailable            = newErr("ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate.")
	ErrSignatureDoesNotMatch         = newErr("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	ErrSlowDown                      = newErr("SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate.")
	ErrUnsupportedSignature          = newErr("InvalidRequest", http.StatusBadRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	ErrXAmzContentSHA256Mismatch     = newErr("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	ErrXAmzContentChecksumMismatch   = newErr("BadDigest", http.StatusBadRequest, "The checksum you specified did not match the calculated checksum.")
	ErrObjectLocked                  = newErr("AccessDenied", http.StatusForbidden, "Access Denied because object protected by object lock.")
	ErrObjectLockNotEnabled          = newErr("InvalidRequest", http.StatusBadRequest, "Bucket is missing Object Lock Configuration.")
	ErrTooManyParts                  = newErr("InvalidArgument", http.StatusBadRequest, "Part number must be an integer between 1 and 10000, inclusive.")
)
