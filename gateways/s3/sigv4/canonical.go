package sigv4

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Protocol constants.
const (
	algorithm        = "AWS4-HMAC-SHA256"
	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
	scopeTerminator  = "aws4_request"
	amzDateLayout    = "20060102T150405Z"
	scopeDateLayout  = "20060102"
	emptySHA256      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// UnsignedPayload is the x-amz-content-sha256 value of a request whose
	// body is not covered by the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload is the x-amz-content-sha256 value of an aws-chunked
	// body with a signature on every chunk.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer is StreamingPayload followed by signed
	// trailing headers.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedPayloadTrailer is an aws-chunked body without chunk
	// signatures whose integrity rests on a trailing checksum.
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// credential is the parsed Credential component:
// <access key>/<yyyymmdd>/<region>/<service>/aws4_request.
type credential struct {
	accessKey string
	date      string
	region    string
	service   string
}

func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + scopeTerminator
}

// parseCredential splits a Credential value. It returns a reason fit for an
// error message when the value is not of the expected form. The access key
// is everything before the last four components, so a key containing '/'
// still parses.
func parseCredential(v string) (credential, string) {
	const form = `expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"`
	parts := strings.Split(v, "/")
	if len(parts) < 5 {
		return credential{}, "the Credential is mal-formed; " + form
	}
	n := len(parts)
	c := credential{
		accessKey: strings.Join(parts[:n-4], "/"),
		date:      parts[n-4],
		region:    parts[n-3],
		service:   parts[n-2],
	}
	switch {
	case c.accessKey == "":
		return credential{}, "the Credential is mal-formed; the access key is empty; " + form
	case !validScopeDate(c.date):
		return credential{}, "the Credential is mal-formed; invalid date; " + form
	case !validScopeComponent(c.region):
		return credential{}, "the Credential is mal-formed; invalid region; " + form
	case !validScopeComponent(c.service):
		return credential{}, "the Credential is mal-formed; invalid service; " + form
	case parts[n-1] != scopeTerminator:
		return credential{}, "incorrect terminal; this endpoint uses \"aws4_request\""
	}
	return c, ""
}

func validScopeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse(scopeDateLayout, s)
	return err == nil
}

// parseSignedHeaders splits a SignedHeaders value ("host;x-amz-date").
// Names must be non-empty lowercase tokens without repeats; "host" must be
// among them. The order is kept: the canonical request lists headers in
// the order the client signed them.
func parseSignedHeaders(v string) ([]string, string) {
	if v == "" {
		return nil, "SignedHeaders is empty"
	}
	names := strings.Split(v, ";")
	seen := make(map[string]struct{}, len(names))
	host := false
	for _, n := range names {
		if n == "" {
			return nil, "SignedHeaders has an empty header name"
		}
		for i := 0; i < len(n); i++ {
			if !isLowerTokenChar(n[i]) {
				return nil, "SignedHeaders names must be lowercase header names"
			}
		}
		if _, dup := seen[n]; dup {
			return nil, "SignedHeaders lists a header twice"
		}
		seen[n] = struct{}{}
		host = host || n == "host"
	}
	if !host {
		return nil, "SignedHeaders must include host"
	}
	return names, ""
}

// isLowerTokenChar reports whether c may appear in a lowercase HTTP
// header name (RFC 9110 tchar without uppercase letters).
func isLowerTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isLowerHex reports whether s is exactly n lowercase hex digits.
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// appendURIEncode appends s URI-encoded as SigV4 specifies: the RFC 3986
// unreserved characters (A-Z a-z 0-9 - _ . ~) are kept, every other byte is
// written as %XX with uppercase hex. '/' is kept when keepSlash is set.
func appendURIEncode(dst []byte, s string, keepSlash bool) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&0xf])
	}
	return dst
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// uriEncode returns s URI-encoded, '/' included.
func uriEncode(s string) string { return string(appendURIEncode(nil, s, false)) }

// canonicalURI returns the canonical URI of u as S3 computes it: the path
// as sent, split at '/', each segment decoded once and URI-encoded once
// (S3 does not double-encode and does not normalize "." or ".." segments
// or repeated slashes). An encoded slash (%2F) inside a segment stays
// encoded, so "a%2Fb" and "a/b" are different canonical paths. An empty
// path is "/".
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if u.Opaque != "" {
		// "//host/path" or "path" forms; the path is what follows the host.
		p = u.Opaque
		if rest, ok := strings.CutPrefix(p, "//"); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				p = rest[i:]
			} else {
				p = ""
			}
		}
	}
	if p == "" {
		return "/"
	}
	out := make([]byte, 0, len(p)+len(p)/4)
	for i, seg := range strings.Split(p, "/") {
		if i > 0 {
			out = append(out, '/')
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			dec = seg // not valid escaping: encode what was sent
		}
		out = appendURIEncode(out, dec, false)
	}
	return string(out)
}

// queryParam is one decoded query parameter, in wire order.
type queryParam struct{ key, value string }

// parseQuery splits a raw query into decoded parameters, keeping order and
// repeats. '+' decodes to a space, as every S3 implementation and the SDKs
// treat it; a parameter without '=' has an empty value. It fails on an
// invalid %-escape.
func parseQuery(raw string) ([]queryParam, error) {
	var out []queryParam
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		out = append(out, queryParam{dk, dv})
	}
	return out, nil
}

// scanQueryKeys reports the decoded keys of raw without failing: a key that
// does not decode is reported as sent. Used only to choose the auth scheme.
func scanQueryKeys(raw string) map[string]int {
	keys := make(map[string]int)
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		k, _, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		keys[k]++
	}
	return keys
}

// canonicalQuery returns the canonical query string of params: each name
// and value URI-encoded, pairs sorted by encoded name then encoded value,
// joined with '&'. Parameters named skip (X-Amz-Signature for presigned
// URLs) are left out.
func canonicalQuery(params []queryParam, skip string) string {
	enc := make([]queryParam, 0, len(params))
	for _, p := range params {
		if skip != "" && p.key == skip {
			continue
		}
		enc = append(enc, queryParam{uriEncode(p.key), uriEncode(p.value)})
	}
	slices.SortFunc(enc, func(a, b queryParam) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// trimAll trims leading and trailing spaces and tabs and collapses every
// run of spaces inside to one space (SigV4 "Trimall"). Tabs inside a value
// are kept, as the AWS SDKs keep them.
func trimAll(s string) string {
	s = strings.Trim(s, " \t")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// headerValues returns the values of the header name (lowercase) as the
// client sent them, reconstructing those net/http moves out of r.Header:
// host, content-length and transfer-encoding. ok is false when the request
// does not carry the header at all.
func headerValues(r *http.Request, name string) (vals []string, ok bool) {
	switch name {
	case "host":
		h := r.Host
		if h == "" && r.URL != nil {
			h = r.URL.Host
		}
		return []string{h}, true
	case "content-length":
		if v, ok := r.Header["Content-Length"]; ok {
			return v, true
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}, true
		}
		return nil, false
	case "transfer-encoding":
		if v, ok := r.Header["Transfer-Encoding"]; ok {
			return v, true
		}
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}, true
		}
		return nil, false
	}
	v, ok := r.Header[http.CanonicalHeaderKey(name)]
	if !ok {
		// A name net/http could not canonicalize is stored as sent.
		v, ok = r.Header[name]
	}
	return v, ok
}

// canonicalRequest builds the SigV4 canonical request:
//
//	<method>\n<canonical URI>\n<canonical query>\n<canonical headers>\n<signed headers>\n<payload hash>
//
// where each canonical header line is "name:trimmed,values\n". It fails
// with SignatureDoesNotMatch when a signed header is absent and with
// InvalidRequest when the query string does not decode.
func canonicalRequest(r *http.Request, signed []string, signedRaw, payloadHash, skipQuery string) (string, error) {
	params, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return "", s3err.ErrInvalidRequest.With("The query string is not validly percent-encoded.")
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(params, skipQuery))
	b.WriteByte('\n')
	for _, name := range signed {
		vals, ok := headerValues(r, name)
		if !ok {
			return "", s3err.ErrSignatureDoesNotMatch.With("The request does not carry the header %q listed in SignedHeaders.", name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(signedRaw)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// stringToSign is "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of canonical request>".
func stringToSign(amzDate, scope, canonical string) string {
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonical)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives the SigV4 key for one scope from the secret.
func signingKey(secret string, c credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.service)
	return hmacSHA256(k, scopeTerminator)
}

// signatureHex is the lowercase hex HMAC of sts under key.
func signatureHex(key []byte, sts string) string {
	return hex.EncodeToString(hmacSHA256(key, sts))
}

// signaturesEqual compares two hex signatures in constant time.
func signaturesEqual(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}
