// Package s3api is the vocabulary of ferry's S3 gateway: the XML request
// bodies it parses, the XML responses it sends, and the headers and query
// parameters it reads and writes, each behaving as Amazon S3 does so that
// the aws CLI, s3cmd, rclone, aws-sdk-go-v2 and minio-go work unchanged.
//
// The package is pure. It does no I/O beyond reading the io.Reader a parser
// is given, reads no clock (a retain-until date in the past, or an
// If-Modified-Since date in the future, is for the caller to judge against
// site-agreed time), keeps no mutable state and starts no goroutines.
// Every rejection is one of the *s3err.Error values of package s3err,
// specialised with With; callers test them with errors.Is.
//
// # Request bodies
//
// ParseCreateBucketConfiguration, ParseVersioningConfiguration,
// ParseObjectLockConfiguration, ParseLifecycleConfiguration,
// ParseObjectTagging, ParseBucketTagging, ParseRetention, ParseLegalHold,
// ParseCompleteMultipartUpload and ParseDelete each read at most a fixed
// number of bytes and then validate what S3 validates:
//
//	MaxConfigBodySize             1 MiB  configuration bodies
//	MaxCompleteMultipartBodySize  8 MiB  10000 parts, about 4 MiB at most
//	MaxDeleteBodySize             8 MiB  1000 keys of up to 1024 bytes, escaped
//
// A longer body is MaxMessageLengthExceeded. An empty body, a body that is
// not well-formed XML, has the wrong root element or content after it is
// MalformedXML. Unknown elements are ignored and namespaces are not
// checked, since clients differ in both; lifecycle transitions are declined
// (NotImplemented) rather than ignored. Documents in US-ASCII or UTF-8 are
// accepted.
//
// # Responses
//
// Every response type implements Response, and Marshal writes it with the
// XML declaration and the S3 namespace on the root element, as S3 does.
// Timestamps are Timestamp values, written "2006-01-02T15:04:05.000Z";
// ETags are ETag values, held unquoted and written quoted. Listing types
// hold raw keys and prefixes; when their EncodingType is "url" they are
// encoded on marshalling as S3 encodes them: like Java's URLEncoder (space
// as '+', "-_.*" and alphanumerics kept) with '/' kept too, which
// url.QueryUnescape and the SDKs decode. ListVersionsResult keeps versions
// and delete markers in one slice so they marshal interleaved in listing
// order. Without encoding-type=url a key holding a character XML 1.0
// cannot carry is written as U+FFFD; clients that may meet such keys ask
// for the encoding, as boto3 always does.
//
// # Headers and query parameters
//
//   - ValidBucketName and ValidObjectKey; ferry rejects keys with a "." or
//     ".." segment, invalid UTF-8 or NUL, which S3 allows.
//   - ParseRange: a single RFC 7233 range; unparseable and multi-range
//     headers are ignored (200 with the whole object, as S3 answers); ranges
//     starting past the end, zero suffixes and any range on an empty object
//     are InvalidRange (416).
//   - EvalConditions, EvalCopySourceConditions, EvalWriteConditions: the
//     conditional headers with S3's precedence and statuses.
//   - ParseCopySource, ParseCopySourceRange, ParseDirective.
//   - ParseObjectMeta and ObjectMeta.WriteHeaders: the stored headers and
//     x-amz-meta-* (2 KiB of names and values); ParseStorageClass accepts
//     the classes that read at once and declines the archive ones.
//   - ParseTaggingHeader and FormatTaggingHeader: x-amz-tagging, validated
//     like tag sets (10 tags per object, 50 per bucket, keys of 1 to 128
//     and values of up to 256 characters from S3's set, no "aws:" keys).
//   - ParseObjectLockHeaders and ObjectLockHeaders.WriteHeaders.
//   - EncodeContinuationToken and DecodeContinuationToken: versioned,
//     checksummed, base64url tokens; a token that is not ours is
//     InvalidArgument.
//   - QuoteETag, UnquoteETag, MultipartETag; FormatHTTPTime, ParseHTTPTime,
//     FormatISO8601, ParseISO8601.
//   - ParseMaxKeys, ParseMaxParts, ParseMaxUploads (default and cap 1000),
//     ParsePartNumber (1 to 10000), ParsePartNumberMarker, ValidUploadID,
//     ValidVersionID, ParseEncodingType.
//
// # Codes S3 uses that s3err lacks
//
// Where S3 answers with a code s3err does not define, the closest code is
// used and the doc comment says so: MissingRequestBodyError (MalformedXML),
// InvalidLocationConstraint (InvalidArgument),
// IllegalVersioningConfigurationException (MalformedXML),
// UserKeyMustBeSpecified (MalformedXML).
//
// # Example
//
//	cfg, err := s3api.ParseVersioningConfiguration(r.Body)
//	if err != nil {
//		s3err.Write(w, r, err, reqID)
//		return
//	}
//	// ... apply cfg.Status through the journal ...
//	body, err := s3api.Marshal(s3api.ListBucketResultV2{
//		Name: bucket, MaxKeys: maxKeys, EncodingType: enc,
//		Contents: objects, NextContinuationToken: s3api.EncodeContinuationToken(lastKey, ""),
//	})
package s3api
