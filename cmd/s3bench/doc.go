// Command s3bench measures an S3 endpoint (ferry's gateway, MinIO, AWS):
// PUT and GET throughput and latency with generated, verifiable payloads.
// It is a thin shell over internal/s3load, which documents what is measured
// and how; every flag maps to a field of s3load.Config.
//
// Usage:
//
//	s3bench [-endpoint URL] [-op put|get|both] [-size 4MiB] [-concurrency 16]
//	        [-duration 10s] [-ops N] [-objects 1000] [-verify] [-seed N]
//	        [-multipart-threshold 64MiB] [-multipart-part-size 16MiB]
//	        [-multipart-concurrency 4] [-checksum when_supported|when_required]
//	        [-unsigned-payload] [-max-attempts 1] [-disk-dir DIR] [-disk-size 1GiB]
//	        [-ec 4+2] [-json] [-quiet]
//
// Examples:
//
//	# 4 MiB objects against a local gateway, PUT then GET with verification
//	s3bench -size 4MiB -concurrency 32 -duration 30s -verify
//
//	# one 5 GiB object in 64 MiB parts; memory stays at a few MiB
//	s3bench -op put -size 5GiB -ops 1 -concurrency 1 -multipart-part-size 64MiB
//
//	# on a gateway host: compare PUT throughput with the data disk
//	s3bench -op put -disk-dir /var/lib/ferry/data -ec 4+2 -json
//
// Credentials come from -access-key and -secret-key, else from
// $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, else from
// $FERRY_ROOT_ACCESS_KEY and $FERRY_ROOT_SECRET_KEY; $AWS_SESSION_TOKEN is
// passed along. Progress lines go to stderr (-quiet drops them), the result
// to stdout.
//
// The first Ctrl-C (or SIGTERM) cancels the run: operations in flight are
// abandoned and counted as canceled, and the partial result is printed. A
// second one kills the process (the default action is restored).
//
// Exit status: 0 when every operation succeeded, 1 when some failed or the
// run could not start, 2 for bad flags, 130 when interrupted.
//
// Goroutines: main runs s3load.Run, which owns and waits for its workers;
// signal.NotifyContext and context.AfterFunc each run one small goroutine
// of the standard library's.
package main
