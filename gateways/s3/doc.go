// Package s3 is ferry's S3 gateway: an http.Handler that speaks the Amazon
// S3 REST API (path-style addressing) on top of a raftstore.Node. ferryd
// serves it on every node; any node accepts any request, since writes are
// forwarded to the raft leader by the node and reads are linearizable.
//
// # Request flow
//
// Every request gets a request id (x-amz-request-id). Its signature is
// verified by sigv4 (header or presigned, plain, hex-signed or aws-chunked
// payloads) against the site's access keys; anonymous requests are refused
// (ferry has no public buckets). The route is chosen by method, path
// (bucket, key) and subresource query, and each handler answers either its
// result or one S3 XML error (s3err) with the right code and status.
//
// # Durability
//
// A PUT streams the verified body into the node's object API: small bodies
// ride inside the raft event, large ones are erasure-coded first. The
// response is sent only after the event committed on a quorum and was
// applied, so an acknowledged PUT survives the loss of any minority of
// nodes. A body whose digest, checksum or chunk signature fails is never
// committed: the object API reads the body to its end before proposing,
// and the verifying reader reports the failure at that end.
//
// # What it serves
//
//   - Buckets: create (with x-amz-bucket-object-lock-enabled), head,
//     delete (only when empty), list, location; versioning (enable,
//     suspend); object lock configuration with default retention;
//     lifecycle configuration; tagging.
//   - Objects: put, get, head, delete, delete-multiple, copy (metadata and
//     tagging directives, source version); ranges; conditionals; user
//     metadata and standard headers; Content-MD5 and checksums; tagging;
//     retention and legal hold; x-amz-version-id, x-amz-delete-marker and
//     x-amz-replication-status (set once a bucket replicates).
//   - Listing: ListObjects V1 and V2, ListObjectVersions, with prefix,
//     delimiter, max-keys, markers and continuation, encoding-type=url.
//   - Multipart: create, upload part, upload part copy, complete, abort,
//     list parts, list uploads. Parts stream into the store; completion is
//     one event that makes the parts (their own payloads, nothing copied)
//     the object, so readers see all of it or none.
//
// The rules that must hold at commit (versioning cannot be unset, object
// lock cannot be disabled nor versioning suspended under it, a COMPLIANCE
// version cannot be removed and its retention cannot be shortened, part
// lists are checked against the parts stored) are enforced by the state
// machine, not here: the gateway cannot race them.
//
// # Goroutines
//
// The handler starts none of its own; net/http runs one goroutine per
// connection, and CopyObject and UploadPartCopy one reader each, which
// they wait for. Server owns its http.Server and listener: Close shuts
// them down and waits for in-flight requests. The Lifecycle worker is run
// by its owner (ferryd) on one goroutine until its context ends.
package s3
