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
// # Goroutines
//
// The handler starts none of its own; net/http runs one goroutine per
// connection. Server owns its http.Server and listener: Close shuts them
// down and waits for in-flight requests.
package s3
