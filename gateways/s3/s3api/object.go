package s3api

import (
	"strings"
	"unicode/utf8"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// MaxKeyLength is the longest object key, in bytes of UTF-8.
const MaxKeyLength = 1024

// ValidObjectKey checks an object key. S3's rules: 1 to 1024 bytes
// (KeyTooLongError beyond). Ferry's further rules, all InvalidArgument: the
// key is valid UTF-8, holds no NUL byte, and no '/'-separated segment is
// "." or "..", because such keys change meaning when a path is cleaned by
// a client, a proxy or a file system. Empty segments ("a//b", a leading
// '/') are allowed, as in S3.
func ValidObjectKey(key string) error {
	switch {
	case key == "":
		return s3err.ErrInvalidArgument.With("The object key must not be empty.")
	case len(key) > MaxKeyLength:
		return s3err.ErrKeyTooLong.With("Your key is too long: %d bytes, the limit is %d.", len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return s3err.ErrInvalidArgument.With("The object key is not valid UTF-8.")
	case strings.IndexByte(key, 0) >= 0:
		return s3err.ErrInvalidArgument.With("The object key must not contain a NUL character.")
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return s3err.ErrInvalidArgument.With("The object key must not contain a %q path segment.", seg)
		}
	}
	return nil
}
