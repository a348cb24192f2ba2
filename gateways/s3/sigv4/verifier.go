package sigv4

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Verifier checks AWS Signature Version 4 on S3 requests. It holds no
// mutable state and is safe for concurrent use.
type Verifier struct {
	cfg Config
}

// New returns a Verifier for cfg, or the problems Validate found.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg}, nil
}

// Config returns the configuration the Verifier was built with.
func (v *Verifier) Config() Config { return v.cfg }

func (v *Verifier) now() time.Time {
	if v.cfg.Now != nil {
		return v.cfg.Now()
	}
	return time.Now()
}

// Result is what Verify established about a request.
type Result struct {
	// AccessKey is the access key the request was signed with; "" when
	// Anonymous.
	AccessKey string
	// Principal is what Lookup returned for AccessKey.
	Principal string
	// Anonymous is set when the request carries no authentication at all;
	// the gateway decides what an anonymous caller may do.
	Anonymous bool
	// Presigned is set for query-string (presigned URL) authentication.
	Presigned bool
	// Region is the region of the credential scope the client signed with.
	Region string
	// SignedAt is the request's signing time (X-Amz-Date or Date); zero
	// when Anonymous.
	SignedAt time.Time
	// Expires is when a presigned URL stops being valid; zero otherwise.
	Expires time.Time
	// PayloadHash is the x-amz-content-sha256 value the signature covers
	// (a hex digest, UNSIGNED-PAYLOAD or a STREAMING-* mode); "" for an
	// anonymous request that sent none.
	PayloadHash string
	// Body is the verified, decoded payload. Read object bytes from here,
	// never from the request's Body. A read returns io.EOF only after
	// every check on the payload passed; otherwise it returns an
	// *s3err.Error (or the transport's own error, for a client that went
	// away), and the caller must not commit what it read.
	Body io.ReadCloser
	// DecodedLength is the length of the payload Body yields: the
	// x-amz-decoded-content-length of an aws-chunked body, the request's
	// Content-Length otherwise, -1 when unknown.
	DecodedLength int64
	// Chunked is set when the body was aws-chunked encoded.
	Chunked bool
	// ContentEncoding is the request's Content-Encoding without the
	// aws-chunked coding: the value to store with the object.
	ContentEncoding string

	chunked *chunkedReader
}

// Trailer returns the trailing headers of an aws-chunked body (such as
// x-amz-checksum-crc32c), verified, once Body has returned io.EOF; nil
// before that and for other bodies.
func (r *Result) Trailer() http.Header {
	if r.chunked == nil {
		return nil
	}
	return r.chunked.Trailer()
}

// Verify authenticates r.
//
// It returns a Result for a request signed with AWS4-HMAC-SHA256 in the
// Authorization header or in the query string (presigned URL), and a
// Result with Anonymous set for a request with neither. Every rejection is
// an *s3err.Error ready for s3err.Write. Verify does not read r.Body: the
// payload is checked as Result.Body is read.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	if r.URL == nil {
		return nil, s3err.ErrInvalidRequest.With("The request has no URL.")
	}
	authz, hasAuthz := r.Header["Authorization"]
	keys := scanQueryKeys(r.URL.RawQuery)
	presigned := keys["X-Amz-Algorithm"] > 0 || keys["X-Amz-Credential"] > 0 || keys["X-Amz-Signature"] > 0
	sigV2Query := keys["AWSAccessKeyId"] > 0 || keys["Signature"] > 0

	switch {
	case hasAuthz && (presigned || sigV2Query):
		return nil, s3err.ErrInvalidArgument.With("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case hasAuthz:
		if len(authz) != 1 {
			return nil, malformedAuth("the Authorization header appears more than once")
		}
		return v.verifyHeader(r, authz[0])
	case presigned:
		return v.verifyPresigned(r)
	case sigV2Query:
		return nil, s3err.ErrUnsupportedSignature
	}
	return v.anonymous(r)
}

// rejectSessionToken refuses temporary credentials: ferry issues none, and
// a token it cannot validate must not be ignored.
func rejectSessionToken(r *http.Request, keys map[string]int) error {
	if _, ok := r.Header["X-Amz-Security-Token"]; ok || keys["X-Amz-Security-Token"] > 0 {
		return s3err.ErrInvalidToken.With("Session tokens (X-Amz-Security-Token) are not accepted by this endpoint.")
	}
	return nil
}

// checkScope applies the region and service rules to a credential scope.
// wrap turns a reason into the error of the auth scheme.
func (v *Verifier) checkScope(c credential, wrap func(string) *s3err.Error) error {
	if c.service != v.cfg.Service {
		return wrap("incorrect service \"" + quoteShortBare(c.service) + "\". This endpoint belongs to \"" + v.cfg.Service + "\".")
	}
	if v.cfg.StrictRegion && c.region != v.cfg.Region {
		return wrap("the region '" + quoteShortBare(c.region) + "' is wrong; expecting '" + v.cfg.Region + "'")
	}
	return nil
}

func quoteShortBare(s string) string {
	q := quoteShort(s)
	return q[1 : len(q)-1]
}

// checkSignedAmzHeaders rejects x-amz-* headers the signature does not
// cover, as S3 does: such a header could be added or altered in transit.
func checkSignedAmzHeaders(r *http.Request, signed []string) error {
	in := make(map[string]struct{}, len(signed))
	for _, s := range signed {
		in[s] = struct{}{}
	}
	var missing []string
	for k := range r.Header {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-amz-") {
			continue
		}
		if _, ok := in[lk]; !ok {
			missing = append(missing, lk)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		if len(missing) > 8 {
			missing = append(missing[:8], "...")
		}
		return s3err.ErrAccessDenied.With("There were headers present in the request which were not signed: %s", strings.Join(missing, ", "))
	}
	return nil
}

var errEmptySecret = errors.New("sigv4: Lookup returned an empty secret")

// lookup resolves the access key, passing s3err errors through and
// reporting any other failure as InternalError.
func (v *Verifier) lookup(ak string) (secret, principal string, err error) {
	secret, principal, err = v.cfg.Lookup(ak)
	if err != nil {
		var se *s3err.Error
		if errors.As(err, &se) {
			return "", "", err
		}
		return "", "", s3err.ErrInternalError.Wrap(err)
	}
	if secret == "" {
		// An empty secret would make the signing key public ("AWS4").
		return "", "", s3err.ErrInternalError.Wrap(errEmptySecret)
	}
	return secret, principal, nil
}

func (v *Verifier) verifyHeader(r *http.Request, authz string) (*Result, error) {
	a, err := parseAuthorization(authz)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(a.cred, malformedAuth); err != nil {
		return nil, err
	}
	if err := rejectSessionToken(r, scanQueryKeys(r.URL.RawQuery)); err != nil {
		return nil, err
	}
	t, amzDate, err := requestTime(r.Header)
	if err != nil {
		return nil, err
	}
	if day := t.Format(scopeDateLayout); a.cred.date != day {
		return nil, malformedAuth("Invalid credential date \"" + a.cred.date + "\". This date is not the same as X-Amz-Date: \"" + day + "\".")
	}
	now := v.now()
	if d := now.Sub(t); d > v.cfg.MaxSkew || d < -v.cfg.MaxSkew {
		return nil, s3err.ErrRequestTimeTooSkewed
	}
	ph, ok, err := singleHeader(r.Header, "X-Amz-Content-Sha256")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s3err.ErrInvalidRequest.With("Missing required header for this request: x-amz-content-sha256")
	}
	mode, sum, err := parsePayloadMode(ph)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(a.signedHeaders, "x-amz-content-sha256") {
		// S3's answer for this header in particular.
		return nil, s3err.ErrInvalidRequest.With("header 'x-amz-content-sha256' must be included in signature")
	}
	if err := checkSignedAmzHeaders(r, a.signedHeaders); err != nil {
		return nil, err
	}
	secret, principal, err := v.lookup(a.cred.accessKey)
	if err != nil {
		return nil, err
	}
	canon, err := canonicalRequest(r, a.signedHeaders, a.signedRaw, ph, "")
	if err != nil {
		return nil, err
	}
	key := signingKey(secret, a.cred)
	want := signatureHex(key, stringToSign(amzDate, a.cred.scope(), canon))
	if !signaturesEqual(want, a.signature) {
		return nil, s3err.ErrSignatureDoesNotMatch
	}
	res := &Result{
		AccessKey:   a.cred.accessKey,
		Principal:   principal,
		Region:      a.cred.region,
		SignedAt:    t,
		PayloadHash: ph,
	}
	var signer *chunkSigner
	if mode.signedChunks() {
		signer = &chunkSigner{key: key, amzDate: amzDate, scope: a.cred.scope(), prev: want}
	}
	if err := v.attachBody(res, r, mode, sum, signer); err != nil {
		return nil, err
	}
	return res, nil
}

func (v *Verifier) verifyPresigned(r *http.Request) (*Result, error) {
	params, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, queryParamsError("The query string is not validly percent-encoded.")
	}
	p, err := parsePresign(params, v.cfg.MaxPresignExpiry)
	if err != nil {
		return nil, err
	}
	if err := v.checkScope(p.cred, func(reason string) *s3err.Error {
		return queryParamsError("Error parsing the X-Amz-Credential parameter; %s", reason)
	}); err != nil {
		return nil, err
	}
	if err := rejectSessionToken(r, scanQueryKeys(r.URL.RawQuery)); err != nil {
		return nil, err
	}
	if day := p.date.Format(scopeDateLayout); p.cred.date != day {
		return nil, queryParamsError("Invalid credential date \"%s\". This date is not the same as X-Amz-Date: \"%s\".", p.cred.date, day)
	}
	now := v.now()
	if p.date.Sub(now) > v.cfg.MaxSkew {
		return nil, s3err.ErrAccessDenied.With("Request is not valid yet")
	}
	expires := p.date.Add(p.expires)
	if now.After(expires) {
		return nil, s3err.ErrAccessDenied.With("Request has expired")
	}
	// The payload hash of a presigned URL is UNSIGNED-PAYLOAD unless the
	// URL (or, signed, a header) carries X-Amz-Content-Sha256.
	ph := UnsignedPayload
	var qph []string
	for _, q := range params {
		if q.key == "X-Amz-Content-Sha256" {
			qph = append(qph, q.value)
		}
	}
	switch {
	case len(qph) > 1:
		return nil, queryParamsError("X-Amz-Content-Sha256 appears more than once.")
	case len(qph) == 1:
		ph = qph[0]
	default:
		hv, ok, err := singleHeader(r.Header, "X-Amz-Content-Sha256")
		if err != nil {
			return nil, err
		}
		if ok {
			ph = hv
		}
	}
	mode, sum, err := parsePayloadMode(ph)
	if err != nil {
		return nil, err
	}
	if mode.chunked() {
		return nil, s3err.ErrInvalidRequest.With("aws-chunked payloads cannot be sent with a presigned URL.")
	}
	if err := checkSignedAmzHeaders(r, p.signedHeaders); err != nil {
		return nil, err
	}
	secret, principal, err := v.lookup(p.cred.accessKey)
	if err != nil {
		return nil, err
	}
	canon, err := canonicalRequest(r, p.signedHeaders, p.signedRaw, ph, "X-Amz-Signature")
	if err != nil {
		return nil, err
	}
	want := signatureHex(signingKey(secret, p.cred), stringToSign(p.amzDate, p.cred.scope(), canon))
	if !signaturesEqual(want, p.signature) {
		return nil, s3err.ErrSignatureDoesNotMatch
	}
	res := &Result{
		AccessKey:   p.cred.accessKey,
		Principal:   principal,
		Presigned:   true,
		Region:      p.cred.region,
		SignedAt:    p.date,
		Expires:     expires,
		PayloadHash: ph,
	}
	if err := v.attachBody(res, r, mode, sum, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// anonymous builds the Result of a request without authentication. Its
// payload is still checked against x-amz-content-sha256 when one is sent
// (a digest, or an unsigned aws-chunked body with a trailing checksum).
func (v *Verifier) anonymous(r *http.Request) (*Result, error) {
	res := &Result{Anonymous: true}
	mode := payloadAbsent
	var sum []byte
	ph, ok, err := singleHeader(r.Header, "X-Amz-Content-Sha256")
	if err != nil {
		return nil, err
	}
	if ok {
		if mode, sum, err = parsePayloadMode(ph); err != nil {
			return nil, err
		}
		if mode.signedChunks() {
			return nil, s3err.ErrInvalidRequest.With("x-amz-content-sha256 %s requires a signed request.", ph)
		}
		res.PayloadHash = ph
	}
	if err := v.attachBody(res, r, mode, sum, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// attachBody sets res.Body and the length fields for the payload mode.
func (v *Verifier) attachBody(res *Result, r *http.Request, mode payloadMode, sum []byte, signer *chunkSigner) error {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	res.ContentEncoding = stripAWSChunked(r.Header["Content-Encoding"])
	names, alg, err := parseTrailerNames(r.Header)
	if err != nil {
		return err
	}
	if !mode.trailer() && len(names) > 0 {
		return s3err.ErrInvalidRequest.With("x-amz-trailer requires x-amz-content-sha256 %s or %s.", StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer)
	}
	if !mode.chunked() {
		res.DecodedLength = r.ContentLength
		if r.ContentLength < 0 {
			res.DecodedLength = -1
		}
		switch mode {
		case payloadHash:
			res.Body = newHashedBody(body, sum)
		default:
			res.Body = &plainBody{rc: body}
		}
		return nil
	}
	declared := int64(-1)
	dv, ok, err := singleHeader(r.Header, "X-Amz-Decoded-Content-Length")
	if err != nil {
		return err
	}
	if ok {
		n, valid := parseDecimal(strings.TrimSpace(dv))
		if !valid {
			return s3err.ErrInvalidArgument.With("x-amz-decoded-content-length must be a non-negative integer.")
		}
		declared = n
	} else if mode.signedChunks() {
		return s3err.ErrMissingContentLength.With("You must provide the x-amz-decoded-content-length header with a streaming (aws-chunked) upload.")
	}
	cr := newChunkedReader(body, chunkedOptions{
		signer:       signer,
		trailer:      mode.trailer(),
		trailerNames: names,
		checksum:     alg,
		declared:     declared,
		maxChunk:     v.cfg.MaxChunkSize,
	})
	res.Body, res.chunked, res.Chunked, res.DecodedLength = cr, cr, true, declared
	return nil
}
