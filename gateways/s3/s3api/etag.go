package s3api

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// QuoteETag returns etag in double quotes, as the ETag header and XML carry
// it. An already quoted value is returned unchanged.
func QuoteETag(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag
	}
	return `"` + etag + `"`
}

// UnquoteETag returns etag without surrounding space, a weak "W/" prefix or
// double quotes. Clients send ETags both quoted and bare.
func UnquoteETag(etag string) string {
	etag = strings.TrimSpace(etag)
	etag = strings.TrimPrefix(etag, "W/")
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		etag = etag[1 : len(etag)-1]
	}
	return etag
}

// MultipartETag returns the ETag S3 gives an object assembled from parts:
// the hex MD5 of the concatenated binary MD5s of the parts, a dash, and the
// number of parts ("9b2cf535f27731c974343645a3985328-2"), unquoted.
// partETags are the parts' ETags in part order, quoted or not; each must be
// the 32-digit hex MD5 of its part, else the result is InvalidPart.
func MultipartETag(partETags []string) (string, error) {
	if len(partETags) == 0 {
		return "", s3err.ErrInvalidPart.With("A multipart object needs at least one part.")
	}
	h := md5.New()
	var sum [md5.Size]byte
	for i, e := range partETags {
		e = UnquoteETag(e)
		if len(e) != 2*md5.Size {
			return "", s3err.ErrInvalidPart.With("Part %d has ETag %q, which is not an MD5.", i+1, e)
		}
		if _, err := hex.Decode(sum[:], []byte(e)); err != nil {
			return "", s3err.ErrInvalidPart.With("Part %d has ETag %q, which is not an MD5.", i+1, e)
		}
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partETags)), nil
}

// FormatHTTPTime formats t for the Last-Modified, Date and Expires headers
// (RFC 1123 in GMT, "Mon, 02 Jan 2006 15:04:05 GMT").
func FormatHTTPTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// ParseHTTPTime parses a header date in any of the three forms HTTP allows.
// ok is false for anything else; conditional headers with such dates are
// ignored, as S3 ignores them.
func ParseHTTPTime(s string) (t time.Time, ok bool) {
	t, err := http.ParseTime(strings.TrimSpace(s))
	return t, err == nil
}
