package s3load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkError builds the error chain the SDK returns for a failed response.
func sdkError(status int, inner error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      inner,
		},
		RequestID: "req-1",
	}}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("get %q: %w: offset 3", "k", ErrMismatch), KindVerify},
		{fmt.Errorf("get %q: %w", "k", ErrSize), KindSize},
		{sdkError(404, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "gone"}), "NoSuchKey"},
		{sdkError(503, &smithy.GenericAPIError{Code: "SlowDown"}), "SlowDown"},
		{sdkError(502, errors.New("bad gateway")), "http-502"},
		{sdkError(500, &smithy.GenericAPIError{Code: ""}), "http-500"},
		{fmt.Errorf("put: %w", context.DeadlineExceeded), KindTimeout},
		{&smithy.OperationError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, KindNetwork},
		{&net.DNSError{Err: "no answer", IsTimeout: true}, KindTimeout},
		{errors.New("something else"), KindOther},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestErrorLog(t *testing.T) {
	var a, b errorLog
	for i := range 5 {
		a.add(fmt.Errorf("a%d: %w", i, ErrMismatch))
	}
	a.add(errors.New("x"))
	b.add(fmt.Errorf("b: %w", ErrMismatch))
	b.addKind("SlowDown", strings.Repeat("m", 2*maxSampleBytes))
	b.addKind("SlowDown", "second")
	var all errorLog
	all.merge(&a)
	all.merge(&b)
	got := all.sorted()
	want := []struct {
		kind    string
		count   int64
		samples int
	}{{KindVerify, 6, 3}, {"SlowDown", 2, 2}, {KindOther, 1, 1}}
	if len(got) != len(want) {
		t.Fatalf("kinds %+v", got)
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].Count != w.count || len(got[i].Samples) != w.samples {
			t.Errorf("kind %d: %s x%d with %d samples, want %s x%d with %d", i,
				got[i].Kind, got[i].Count, len(got[i].Samples), w.kind, w.count, w.samples)
		}
	}
	if s := got[1].Samples[0]; len(s) > maxSampleBytes+3 {
		t.Errorf("sample of %d bytes kept", len(s))
	}

	// Past maxErrorKinds, new kinds are counted as other.
	var many errorLog
	for i := range maxErrorKinds + 5 {
		many.addKind(fmt.Sprintf("Code%d", i), "m")
	}
	var total int64
	for _, k := range many.kinds {
		total += k.Count
	}
	if len(many.kinds) != maxErrorKinds+1 || total != maxErrorKinds+5 {
		t.Errorf("%d kinds, %d errors; want %d kinds and every error counted", len(many.kinds), total, maxErrorKinds+1)
	}
}
