// Package sigv4 verifies AWS Signature Version 4 on requests to ferry's S3
// gateway, decodes and verifies their payloads, and checks the object
// checksums S3 clients send (Content-MD5 and x-amz-checksum-*).
//
// # What Verify checks
//
// Verifier.Verify takes an *http.Request as net/http's server delivers it
// and returns a *Result or an *s3err.Error. It accepts:
//
//   - The Authorization header "AWS4-HMAC-SHA256 Credential=AKID/date/
//     region/s3/aws4_request, SignedHeaders=..., Signature=...", with the
//     separators real clients use (", ", ",", spaces, space around '=').
//     The time comes from X-Amz-Date, else Date; it must lie within
//     Config.MaxSkew of Config.Now (RequestTimeTooSkewed) and its day must
//     be the credential scope's date. x-amz-content-sha256 is required and
//     must be signed, as S3 requires ("InvalidRequest: Missing required
//     header for this request: x-amz-content-sha256"; "header
//     'x-amz-content-sha256' must be included in signature").
//   - Presigned URLs (X-Amz-Algorithm, -Credential, -Date, -Expires,
//     -SignedHeaders, -Signature, each exactly once). X-Amz-Expires above
//     Config.MaxPresignExpiry is AuthorizationQueryParametersError; an
//     expired URL is AccessDenied "Request has expired". The payload is
//     UNSIGNED-PAYLOAD unless X-Amz-Content-Sha256 is in the query or, as
//     a signed header, in the request.
//   - Anonymous requests (neither): Result.Anonymous is set and the
//     gateway decides what to allow.
//
// SigV2 (header or query), SigV4a and other schemes get
// s3err.ErrUnsupportedSignature; both a header and a query signature get
// InvalidArgument; X-Amz-Security-Token gets InvalidToken (ferry issues no
// session credentials). Any x-amz-* header that SignedHeaders does not
// list is AccessDenied, as in S3, and SignedHeaders must include host.
//
// The canonical request is built as AWS defines it: the path as sent,
// each segment decoded once and URI-encoded once (S3 does not
// double-encode; %2F inside a segment stays distinct from '/'); the query
// decoded ('+' is a space), each name and value URI-encoded, sorted by
// name then value, X-Amz-Signature left out for presigned URLs; the
// signed headers in the order listed, values trimmed, runs of spaces
// collapsed, repeated headers joined by ','; host from r.Host;
// content-length and transfer-encoding reconstructed from the request
// when net/http moved them out of r.Header.
//
// Verify must see the request as the client sent it: call it before any
// routing rewrite of r.URL (http.StripPrefix changes Path and RawPath),
// and a reverse proxy in front of the gateway must preserve the Host
// header, which every client signs.
//
// Region: by default any region in the credential scope is accepted and
// the signature is verified with it (clients such as s3cmd and rclone sign
// for us-east-1 whatever the endpoint, and after a failover the DR site
// keeps accepting URLs presigned for the primary). Config.StrictRegion
// limits the scope to Config.Region.
//
// # Payloads and Result.Body
//
// Verify never reads r.Body. The caller reads the object bytes from
// Result.Body, which enforces the payload mode named by
// x-amz-content-sha256:
//
//   - a hex SHA-256: the body is hashed as it streams; the read that
//     reaches the end returns ErrXAmzContentSHA256Mismatch instead of
//     io.EOF when the digest differs.
//   - UNSIGNED-PAYLOAD: the body passes through.
//   - STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: aws-chunked with a
//     signature on every chunk, chained from the request signature, and in
//     the -TRAILER form a signed trailer chunk (x-amz-trailer-signature).
//   - STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked without chunk
//     signatures; integrity rests on the trailing checksum.
//
// For aws-chunked bodies x-amz-decoded-content-length (required when the
// chunks are signed) is Result.DecodedLength and the decoded body must
// have exactly that many bytes (IncompleteBody otherwise). x-amz-trailer
// may name one checksum trailer (x-amz-checksum-crc32, -crc32c,
// -crc64nvme, -sha1, -sha256); the decoder checks it against the decoded
// bytes (BadDigest on mismatch) and Result.Trailer returns the trailing
// headers after io.EOF. Result.ContentEncoding is Content-Encoding without
// aws-chunked. Malformed framing is InvalidRequest, a body cut short is
// IncompleteBody, a bad chunk or trailer signature SignatureDoesNotMatch.
//
// # Streaming and memory guarantees
//
// Nothing buffers a whole body. With signed chunks the decoder reads one
// chunk into a buffer, verifies its signature and only then releases it,
// so no unverified byte reaches the caller. The buffer is reused from
// chunk to chunk and grows (from 64 KiB, doubling) only as chunk bytes
// actually arrive, so memory per request is at most one chunk
// (Config.MaxChunkSize, default 16 MiB; SDKs send 64 KiB to 1 MiB) plus a
// 4 KiB line buffer, and a header that announces a large chunk costs
// nothing until the bytes come. Chunk-size fields longer than 16 hex
// digits or above MaxChunkSize, lines over 4 KiB and trailer sections
// over 16 KiB are rejected. In the other modes (hex digest, unsigned
// trailer, Content-MD5 and x-amz-checksum-*) bytes reach the caller
// before the check at the end, so the rule for the gateway is the same in
// every mode: stage what you read and commit only after Body returned
// io.EOF; any other error means discard.
//
// Errors from Body are sticky. They are *s3err.Error values for
// rejections; a failure of the transport itself (client gone,
// http.MaxBytesError) is returned unchanged, except that a body cut short
// (io.ErrUnexpectedEOF) is IncompleteBody.
//
// # Checksums
//
// ParseChecksumHeaders reads Content-MD5 (InvalidDigest when not base64 of
// 16 bytes), x-amz-checksum-*, x-amz-sdk-checksum-algorithm and
// x-amz-trailer into a ChecksumSpec; NewChecksumReader computes MD5, the
// requested algorithm and any extra ones while streaming and fails the
// final read with BadDigest on a mismatch. CRC64NVME uses
// github.com/minio/crc64nvme.
//
// # Concurrency
//
// A Verifier is immutable and safe for concurrent use; it starts no
// goroutines. A Result's Body is for one reader; Trailer may be called
// from any goroutine.
//
// # Example
//
//	cfg := sigv4.DefaultConfig()
//	cfg.Lookup = keys.Lookup // func(ak string) (secret, principal string, err error)
//	v, err := sigv4.New(cfg)
//	...
//	func (g *Gateway) putObject(w http.ResponseWriter, r *http.Request) {
//		res, err := v.Verify(r)
//		if err != nil {
//			s3err.Write(w, r, err, reqID)
//			return
//		}
//		spec, err := sigv4.ParseChecksumHeaders(r.Header)
//		if err != nil {
//			s3err.Write(w, r, err, reqID)
//			return
//		}
//		body := sigv4.NewChecksumReader(res.Body, spec)
//		staged, err := g.stage(body) // io.Copy into a temporary object
//		if err != nil {              // a mismatch surfaces here, at EOF
//			g.discard(staged)
//			s3err.Write(w, r, err, reqID)
//			return
//		}
//		etag := hex.EncodeToString(body.MD5())
//		g.commit(staged, etag)
//	}
package sigv4
