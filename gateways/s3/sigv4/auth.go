package sigv4

import (
	"net/http"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// authHeader is a parsed Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
type authHeader struct {
	cred          credential
	signedHeaders []string
	signedRaw     string
	signature     string
}

// malformedAuth is the AuthorizationHeaderMalformed error with S3's prefix.
func malformedAuth(reason string) *s3err.Error {
	return s3err.ErrAuthorizationHeaderMalformed.With("The authorization header is malformed; %s", reason)
}

// parseAuthorization parses an Authorization header value. Components may
// be separated by commas, whitespace or both, in any order, with optional
// whitespace around '='; each must appear once. Schemes other than
// AWS4-HMAC-SHA256 (SigV2 "AWS ...", SigV4a, Bearer, ...) are rejected
// with ErrUnsupportedSignature.
func parseAuthorization(v string) (authHeader, error) {
	v = strings.Trim(v, " \t")
	scheme, rest, _ := strings.Cut(v, " ")
	if i := strings.IndexAny(scheme, "\t,"); i >= 0 {
		scheme, rest = scheme[:i], scheme[i:]+" "+rest
	}
	if scheme != algorithm {
		if strings.HasPrefix(scheme, algorithm) {
			return authHeader{}, malformedAuth("the algorithm must be followed by a space")
		}
		if scheme == "" {
			return authHeader{}, malformedAuth("the header is empty")
		}
		return authHeader{}, s3err.ErrUnsupportedSignature
	}
	fields := strings.FieldsFunc(squeezeEquals(rest), func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t'
	})
	var a authHeader
	var haveCred, haveSH, haveSig bool
	for _, f := range fields {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			return authHeader{}, malformedAuth("a component is not of the form Key=Value")
		}
		switch k {
		case "Credential":
			if haveCred {
				return authHeader{}, malformedAuth("Credential appears twice")
			}
			c, reason := parseCredential(val)
			if reason != "" {
				return authHeader{}, malformedAuth(reason)
			}
			a.cred, haveCred = c, true
		case "SignedHeaders":
			if haveSH {
				return authHeader{}, malformedAuth("SignedHeaders appears twice")
			}
			names, reason := parseSignedHeaders(val)
			if reason != "" {
				return authHeader{}, malformedAuth(reason)
			}
			a.signedHeaders, a.signedRaw, haveSH = names, val, true
		case "Signature":
			if haveSig {
				return authHeader{}, malformedAuth("Signature appears twice")
			}
			if !isLowerHex(val, 64) {
				return authHeader{}, malformedAuth("the Signature must be 64 lowercase hexadecimal characters")
			}
			a.signature, haveSig = val, true
		default:
			return authHeader{}, malformedAuth("unknown component " + quoteShort(k))
		}
	}
	if !haveCred || !haveSH || !haveSig {
		return authHeader{}, malformedAuth("the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}
	return a, nil
}

// squeezeEquals removes spaces and tabs around '=' so "Credential = x"
// reads as "Credential=x".
func squeezeEquals(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' {
			// Skip blanks that precede '=' (look ahead past the run).
			j := i
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && s[j] == '=' {
				i = j - 1
				continue
			}
			// Skip blanks that follow '='.
			if len(b) > 0 && b[len(b)-1] == '=' {
				i = j - 1
				continue
			}
		}
		b = append(b, c)
	}
	return string(b)
}

// quoteShort quotes s for a message, cut to 32 bytes so a hostile header
// cannot make the error body large.
func quoteShort(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return "\"" + strings.ToValidUTF8(s, "?") + "\""
}

// presignParams are the query parameters of a presigned URL.
type presignParams struct {
	cred          credential
	signedHeaders []string
	signedRaw     string
	signature     string
	date          time.Time
	amzDate       string
	expires       time.Duration
}

func queryParamsError(format string, args ...any) *s3err.Error {
	return s3err.ErrAuthorizationQueryParamsError.With(format, args...)
}

// parsePresign reads and checks the X-Amz-* parameters of a presigned
// URL. Every parameter must appear exactly once.
func parsePresign(params []queryParam, maxExpiry time.Duration) (presignParams, error) {
	const required = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
	want := map[string]string{
		"X-Amz-Algorithm": "", "X-Amz-Credential": "", "X-Amz-Signature": "",
		"X-Amz-Date": "", "X-Amz-SignedHeaders": "", "X-Amz-Expires": "",
	}
	seen := map[string]bool{}
	for _, p := range params {
		if _, ok := want[p.key]; !ok {
			continue
		}
		if seen[p.key] {
			return presignParams{}, queryParamsError("%s appears more than once.", p.key)
		}
		seen[p.key] = true
		want[p.key] = p.value
	}
	if len(seen) != len(want) {
		return presignParams{}, queryParamsError(required)
	}
	if want["X-Amz-Algorithm"] != algorithm {
		return presignParams{}, queryParamsError("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	var p presignParams
	c, reason := parseCredential(want["X-Amz-Credential"])
	if reason != "" {
		return presignParams{}, queryParamsError("Error parsing the X-Amz-Credential parameter; %s", reason)
	}
	p.cred = c
	names, reason := parseSignedHeaders(want["X-Amz-SignedHeaders"])
	if reason != "" {
		return presignParams{}, queryParamsError("Error parsing the X-Amz-SignedHeaders parameter; %s", reason)
	}
	p.signedHeaders, p.signedRaw = names, want["X-Amz-SignedHeaders"]
	if !isLowerHex(want["X-Amz-Signature"], 64) {
		return presignParams{}, queryParamsError("X-Amz-Signature must be 64 lowercase hexadecimal characters.")
	}
	p.signature = want["X-Amz-Signature"]
	t, ok := parseAmzDate(want["X-Amz-Date"])
	if !ok {
		return presignParams{}, queryParamsError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	p.date, p.amzDate = t, want["X-Amz-Date"]
	exp := want["X-Amz-Expires"]
	secs, ok := parseDecimal(exp)
	switch {
	case strings.HasPrefix(exp, "-"):
		return presignParams{}, queryParamsError("X-Amz-Expires must be non-negative")
	case !ok:
		return presignParams{}, queryParamsError("X-Amz-Expires should be a number")
	case secs > int64(maxExpiry/time.Second):
		return presignParams{}, queryParamsError("X-Amz-Expires must be less than a week (in seconds) that is %d", int64(maxExpiry/time.Second))
	}
	p.expires = time.Duration(secs) * time.Second
	return p, nil
}

// parseDecimal parses 1 to 18 ASCII digits.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseAmzDate parses the ISO 8601 basic form 20060102T150405Z.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateLayout, s)
	return t, err == nil
}

// requestTime returns the signing time of a header-signed request and the
// form it takes in the string to sign: X-Amz-Date when present, otherwise
// Date in any HTTP date format or the ISO 8601 basic form.
func requestTime(h http.Header) (time.Time, string, error) {
	bad := s3err.ErrAccessDenied.With("AWS authentication requires a valid Date or x-amz-date header")
	if v, ok := h["X-Amz-Date"]; ok {
		if len(v) != 1 {
			return time.Time{}, "", bad
		}
		t, ok := parseAmzDate(v[0])
		if !ok {
			return time.Time{}, "", bad
		}
		return t, v[0], nil
	}
	v, ok := h["Date"]
	if !ok || len(v) != 1 {
		return time.Time{}, "", bad
	}
	t, err := http.ParseTime(v[0])
	if err != nil {
		var ok bool
		if t, ok = parseAmzDate(v[0]); !ok {
			return time.Time{}, "", bad
		}
	}
	t = t.UTC()
	return t, t.Format(amzDateLayout), nil
}
