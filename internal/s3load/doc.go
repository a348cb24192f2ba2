// Package s3load is a load generator for S3 endpoints: ferry's gateway,
// MinIO or AWS. It drives PUT and GET phases with a fixed number of workers
// through aws-sdk-go-v2 (path-style addressing, a custom BaseEndpoint,
// checksum behaviour at the SDK's default unless Config.Checksum says
// otherwise) and reports, per phase, operations, errors by kind, ops/s,
// MiB/s and latency percentiles. cmd/s3bench is its command line.
//
// # Example
//
//	cfg := s3load.DefaultConfig()
//	cfg.AccessKey, cfg.SecretKey = ak, sk
//	cfg.ObjectSize = 64 * s3load.MiB
//	cfg.Verify = true
//	res, err := s3load.Run(ctx, cfg) // partial result if ctx ends
//	res.Format(os.Stdout)            // or json.Marshal(res)
//
// # Payloads
//
// Bodies are generated, never stored: the byte at offset o of key k is a
// pure function of (Seed, k, o) (see Generator), so a PUT streams from a
// Payload (io.Reader, io.Seeker, io.ReaderAt) and a GET with Verify checks
// every byte against the same function without keeping anything. Objects
// above Config.MultipartThreshold go up through the SDK's upload manager,
// which cuts parts as sections of the Payload's ReaderAt: no part is ever
// buffered, so memory does not grow with object or part size (a 5 GiB
// object costs what a 5 MiB one does). The payload function is a format:
// objects put by one build are verified by another, so TestPayloadGolden
// pins it.
//
// # Measurement
//
// Ops, bytes and latencies count successful operations; failures are
// classified (Classify: S3 error code, HTTP status, verify, size, timeout,
// network) with the first few messages of each kind. A phase ends when
// Duration has passed or MaxOps operations were started; operations in
// flight then complete and count, and the phase's elapsed time runs until
// the last one has. Latency of an operation is from the request to the
// last body byte (GET) or the final response (PUT, or CompleteMultipart).
// Percentiles come from a log-linear histogram (Histogram) with a relative
// error of at most 1/256; min, mean and max are exact.
//
// # Invariants
//
//   - Every key a GET phase of OpBoth reads was written successfully by its
//     PUT phase; payloads do not depend on how often a key was written.
//   - Run returns after every goroutine it started has exited.
//
// # Goroutines
//
// Run starts Config.Concurrency worker goroutines per phase and waits for
// them before the next phase; each owns its tallies (histogram, errors,
// counters), merged after the wait. A multipart upload runs the manager's
// MultipartConcurrency part goroutines, which it waits for before
// returning. The HTTP transport's connection goroutines belong to Run's
// private connection pool, whose idle connections Run closes on return.
// Workers stop at the phase deadline, at MaxOps, or when ctx ends; an
// operation in flight when ctx ends is cancelled and counted as canceled.
package s3load
