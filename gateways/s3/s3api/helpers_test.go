package s3api

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// checkErr fails t unless err is nil when want is nil, or an *s3err.Error
// with want's code and status otherwise.
func checkErr(t *testing.T, err error, want *s3err.Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var se *s3err.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not an *s3err.Error; want %s", err, err, want.Code)
	}
	if !errors.Is(err, want) || se.HTTPStatus != want.HTTPStatus {
		t.Fatalf("error %v (status %d); want %s (status %d)", err, se.HTTPStatus, want.Code, want.HTTPStatus)
	}
}

// mustS3Err fails t if err is non-nil and not an *s3err.Error. Fuzz targets
// use it.
func mustS3Err(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *s3err.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not an *s3err.Error", err, err)
	}
	if se.Code == "" || se.HTTPStatus < 300 {
		t.Fatalf("error %v has code %q status %d", err, se.Code, se.HTTPStatus)
	}
}

func ptr[T any](v T) *T { return &v }

func body(s string) *strings.Reader { return strings.NewReader(s) }
