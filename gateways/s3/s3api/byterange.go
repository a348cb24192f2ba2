package s3api

import (
	"math"
	"strconv"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// ByteRange is a satisfiable range of an object: Length > 0 bytes from
// Start.
type ByteRange struct {
	Start, Length int64
}

// Last returns the offset of the range's last byte.
func (r ByteRange) Last() int64 { return r.Start + r.Length - 1 }

// ContentRange returns the Content-Range header of a 206 response serving r
// from an object of size bytes: "bytes 0-99/1000".
func (r ByteRange) ContentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.Start, 10) + "-" + strconv.FormatInt(r.Last(), 10) + "/" + strconv.FormatInt(size, 10)
}

// UnsatisfiedContentRange returns the Content-Range header of a 416
// response for an object of size bytes: "bytes */1000".
func UnsatisfiedContentRange(size int64) string {
	return "bytes */" + strconv.FormatInt(size, 10)
}

// ParseRange applies a GetObject or HeadObject Range header to an object of
// size bytes, as S3 does (RFC 7233 for a single range):
//   - ok is false, and the whole object is served with 200, when the header
//     is empty or cannot be parsed: another unit, no '-', non-digits,
//     last-byte-pos before first-byte-pos. S3 also ignores a header naming
//     several ranges ("bytes=0-1,5-6") and serves the whole object.
//   - "bytes=N-M" is clamped to the object; "bytes=N-" runs to the end;
//     "bytes=-N" is the last N bytes, or the whole object when N exceeds it.
//   - the range is unsatisfiable, InvalidRange (416), when it starts at or
//     after the end of the object, when a suffix length is 0, and for any
//     range of an empty object, as S3 answers.
func ParseRange(header string, size int64) (r ByteRange, ok bool, err error) {
	unit, set, found := strings.Cut(strings.TrimSpace(header), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(set, ",") || size < 0 {
		return ByteRange{}, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(set), "-")
	if !found {
		return ByteRange{}, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	unsatisfiable := s3err.ErrInvalidRange.With("The requested range %q is not satisfiable for an object of %d bytes.", header, size)
	if first == "" {
		n, valid := parseDigits(last)
		if !valid {
			return ByteRange{}, false, nil
		}
		if n == 0 || size == 0 {
			return ByteRange{}, false, unsatisfiable
		}
		n = min(n, size)
		return ByteRange{Start: size - n, Length: n}, true, nil
	}
	f, valid := parseDigits(first)
	if !valid {
		return ByteRange{}, false, nil
	}
	l := int64(math.MaxInt64)
	if last != "" {
		if l, valid = parseDigits(last); !valid || l < f {
			return ByteRange{}, false, nil
		}
	}
	if f >= size {
		return ByteRange{}, false, unsatisfiable
	}
	l = min(l, size-1)
	return ByteRange{Start: f, Length: l - f + 1}, true, nil
}

// parseDigits parses a non-empty run of ASCII digits, saturating at
// math.MaxInt64 (a position past any object's end).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	return n, true
}
