package s3api

import (
	"net/http"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// EvalConditions evaluates the conditional headers of a request on an
// existing object with the given ETag (quoted or not) and last-modified
// time, with S3's precedence (RFC 7232 section 6):
//  1. If-Match, when present, else If-Unmodified-Since: failure is
//     PreconditionFailed (412). If-Match true makes S3 ignore
//     If-Unmodified-Since.
//  2. If-None-Match, when present, else If-Modified-Since: failure is
//     NotModified (304) for GET and HEAD; for other methods a matching
//     If-None-Match is PreconditionFailed and If-Modified-Since is ignored.
//
// "*" matches any ETag. If-Match compares strongly (a weak W/ tag never
// matches), If-None-Match weakly. Dates are compared at whole seconds, as
// HTTP dates carry; unparseable dates make their header ignored. The caller
// answers NoSuchKey for a missing object before evaluating conditions, and
// uses EvalWriteConditions for PUT-style writes.
func EvalConditions(method string, h http.Header, etag string, lastModified time.Time) error {
	etag = UnquoteETag(etag)
	lm := lastModified.Truncate(time.Second)
	if v, ok := header(h, "If-Match"); ok {
		if !matchETag(v, etag, false) {
			return s3err.ErrPreconditionFailed.With("At least one of the pre-conditions you specified did not hold: If-Match.")
		}
	} else if v, ok := header(h, "If-Unmodified-Since"); ok {
		if t, ok := ParseHTTPTime(v); ok && lm.After(t) {
			return s3err.ErrPreconditionFailed.With("At least one of the pre-conditions you specified did not hold: If-Unmodified-Since.")
		}
	}
	read := method == http.MethodGet || method == http.MethodHead
	if v, ok := header(h, "If-None-Match"); ok {
		if matchETag(v, etag, true) {
			if read {
				return s3err.ErrNotModified
			}
			return s3err.ErrPreconditionFailed.With("At least one of the pre-conditions you specified did not hold: If-None-Match.")
		}
	} else if v, ok := header(h, "If-Modified-Since"); ok && read {
		if t, ok := ParseHTTPTime(v); ok && !lm.After(t) {
			return s3err.ErrNotModified
		}
	}
	return nil
}

// EvalCopySourceConditions evaluates the x-amz-copy-source-if-* headers of
// CopyObject and UploadPartCopy on the source object, with the precedence of
// EvalConditions; every failure is PreconditionFailed (412), as S3 answers.
func EvalCopySourceConditions(h http.Header, etag string, lastModified time.Time) error {
	etag = UnquoteETag(etag)
	lm := lastModified.Truncate(time.Second)
	fail := func(name string) error {
		return s3err.ErrPreconditionFailed.With("At least one of the pre-conditions you specified did not hold: %s.", name)
	}
	if v, ok := header(h, "X-Amz-Copy-Source-If-Match"); ok {
		if !matchETag(v, etag, false) {
			return fail("x-amz-copy-source-if-match")
		}
	} else if v, ok := header(h, "X-Amz-Copy-Source-If-Unmodified-Since"); ok {
		if t, ok := ParseHTTPTime(v); ok && lm.After(t) {
			return fail("x-amz-copy-source-if-unmodified-since")
		}
	}
	if v, ok := header(h, "X-Amz-Copy-Source-If-None-Match"); ok {
		if matchETag(v, etag, true) {
			return fail("x-amz-copy-source-if-none-match")
		}
	} else if v, ok := header(h, "X-Amz-Copy-Source-If-Modified-Since"); ok {
		if t, ok := ParseHTTPTime(v); ok && !lm.After(t) {
			return fail("x-amz-copy-source-if-modified-since")
		}
	}
	return nil
}

// EvalWriteConditions evaluates If-Match and If-None-Match on a conditional
// write (PutObject, CopyObject's destination, CompleteMultipartUpload).
// exists says whether the key has a current version, etag is its ETag.
//   - If-None-Match must be "*" (any other value is NotImplemented, as S3
//     answers) and fails with PreconditionFailed when the object exists.
//   - If-Match fails with NoSuchKey when there is no object, as S3 answers,
//     and with PreconditionFailed when no listed ETag matches.
//
// If-Modified-Since and If-Unmodified-Since do not apply to writes.
func EvalWriteConditions(h http.Header, exists bool, etag string) error {
	if v, ok := header(h, "If-Match"); ok {
		if !exists {
			return s3err.ErrNoSuchKey
		}
		if !matchETag(v, UnquoteETag(etag), false) {
			return s3err.ErrPreconditionFailed.With("At least one of the pre-conditions you specified did not hold: If-Match.")
		}
	}
	if v, ok := header(h, "If-None-Match"); ok {
		if strings.TrimSpace(v) != "*" {
			return s3err.ErrNotImplemented.With("A header you provided implies functionality that is not implemented: If-None-Match accepts only '*' on writes.")
		}
		if exists {
			return s3err.ErrPreconditionFailed.With("At least one of the pre-conditions you specified did not hold: If-None-Match.")
		}
	}
	return nil
}

// header returns all values of a header joined by commas and whether it is
// present with a non-blank value.
func header(h http.Header, name string) (string, bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	v := strings.Join(vs, ",")
	return v, strings.TrimSpace(v) != ""
}

// matchETag reports whether the list of entity tags in v matches etag
// (unquoted). "*" matches anything. Tags may be quoted or bare; a weak tag
// matches only when weak is set.
func matchETag(v, etag string, weak bool) bool {
	for t := range strings.SplitSeq(v, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if strings.HasPrefix(t, "W/") && !weak {
			continue
		}
		if UnquoteETag(t) == etag {
			return true
		}
	}
	return false
}
