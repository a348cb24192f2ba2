// Package interop checks that the S3 command-line clients people actually
// run against a storage system — the AWS CLI, s3cmd and rclone, as Debian
// packages them — work with ferry's S3 gateway. It holds tests only.
//
// Each test builds ferryd, starts it as a real process (`ferryd --dev DIR
// --s3-addr 127.0.0.1:0`, root keys from FERRY_ROOT_ACCESS_KEY and
// FERRY_ROOT_SECRET_KEY) and drives one tool through the same steps, each a
// subtest: create a bucket; upload small objects and a 100 MiB object as a
// multipart upload; list with a prefix and the "/" delimiter; read byte
// ranges; copy an object server-side; delete objects; and, on a versioned
// bucket, put one key twice, list both versions, read the older one by
// version and delete the key, leaving a delete marker in front of the
// versions. Every byte read back is compared (SHA-256) with what was
// written. Content is random from a seed the test logs; -seed N or
// FERRY_INTEROP_SEED=N replays it.
//
// The tools are configured with nothing but an endpoint, the root keys,
// path-style addressing and region us-east-1. Each runs with HOME and its
// configuration in a temporary directory (AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE, `s3cmd -c`, `rclone --config` plus
// RCLONE_CONFIG_FERRY_* variables), and with the caller's AWS_*, RCLONE_*
// and proxy variables removed, so nothing in the user's home or environment
// changes what is tested (an AWS_CA_BUNDLE, for one, makes rclone refuse to
// start).
//
// Where a tool has no command for a step, the step is done with the AWS CLI
// and the log says so: s3cmd has no ranged GET and no versioning commands;
// rclone reads ranges (`cat --offset --count`), enables versioning
// (`backend versioning`) and lists and reads old versions (`--s3-versions`,
// which names them by time rather than version id, though it reads them by
// id underneath).
//
// A missing tool fails the test with a pointer to .ci/run, which installs
// the Debian packages awscli, s3cmd and rclone. The tools are looked up in
// /usr/bin first (where Debian puts them), then on PATH, so that a
// pip-installed AWS CLI earlier on PATH does not replace the packaged one;
// FERRY_INTEROP_AWS, FERRY_INTEROP_S3CMD and FERRY_INTEROP_RCLONE name
// another binary to test. Debian 12 ships AWS CLI v2.9: it predates 2.23,
// which began sending CRC checksums in aws-chunked trailers by default, and
// sends Content-MD5 instead. AWS_REQUEST_CHECKSUM_CALCULATION is left unset
// all the same: the gateway verifies those checksums, and a pip-installed
// v1 (1.45, botocore 1.43), which sends x-amz-checksum-crc32 by default (as
// a header over plain HTTP), passes the same steps.
package interop
