// Package s3err holds the S3 error codes the gateway returns and the error
// type that carries one. Every request the gateway rejects is answered with
// one of these codes, its HTTP status and the XML body S3 clients parse:
//
//	<Error><Code>NoSuchKey</Code><Message>...</Message>
//	  <Resource>/bucket/key</Resource><RequestId>...</RequestId></Error>
//
// Errors are values: callers test them with errors.Is against the Err*
// variables (which compares codes) or errors.As to *Error, never by text.
package s3err
