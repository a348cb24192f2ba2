package s3api

import (
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestParseRange(t *testing.T) {
	const ignored = -1
	for _, tc := range []struct {
		in    string
		size  int64
		start int64 // ignored: the header is ignored
		n     int64
		want  *s3err.Error
	}{
		{"", 100, ignored, 0, nil},
		{"bytes=0-0", 100, 0, 1, nil},
		{"bytes=0-99", 100, 0, 100, nil},
		{"bytes=10-19", 100, 10, 10, nil},
		{"bytes=90-200", 100, 90, 10, nil},
		{"bytes=99-", 100, 99, 1, nil},
		{"bytes=0-", 100, 0, 100, nil},
		{"bytes=-1", 100, 99, 1, nil},
		{"bytes=-20", 100, 80, 20, nil},
		{"bytes=-150", 100, 0, 100, nil},
		{"bytes=2800-9223372036854775807", 2890, 2800, 90, nil},
		{"bytes=2800-99999999999999999999999", 2890, 2800, 90, nil},
		{"Bytes=1-2", 100, 1, 2, nil},
		{" bytes = 1 - 2 ", 100, 1, 2, nil},
		{"bytes=5-5", 6, 5, 1, nil},

		{"bytes=100-", 100, ignored, 0, s3err.ErrInvalidRange},
		{"bytes=100-200", 100, ignored, 0, s3err.ErrInvalidRange},
		{"bytes=99999999999999999999-", 100, ignored, 0, s3err.ErrInvalidRange},
		{"bytes=-0", 100, ignored, 0, s3err.ErrInvalidRange},
		{"bytes=0-", 0, ignored, 0, s3err.ErrInvalidRange},
		{"bytes=0-0", 0, ignored, 0, s3err.ErrInvalidRange},
		{"bytes=-1", 0, ignored, 0, s3err.ErrInvalidRange},

		{"bytes=5-2", 100, ignored, 0, nil},
		{"bytes=0-1,3-4", 100, ignored, 0, nil},
		{"bytes=0-1,", 100, ignored, 0, nil},
		{"bytes=abc", 100, ignored, 0, nil},
		{"bytes=a-b", 100, ignored, 0, nil},
		{"bytes=-", 100, ignored, 0, nil},
		{"bytes=1", 100, ignored, 0, nil},
		{"bytes=+1-2", 100, ignored, 0, nil},
		{"bytes=--1", 100, ignored, 0, nil},
		{"items=0-1", 100, ignored, 0, nil},
		{"0-1", 100, ignored, 0, nil},
		{"bytes=0x1-2", 100, ignored, 0, nil},
	} {
		r, ok, err := ParseRange(tc.in, tc.size)
		checkErr(t, err, tc.want)
		if tc.start == ignored {
			if ok {
				t.Fatalf("ParseRange(%q, %d) = %+v, want the header ignored", tc.in, tc.size, r)
			}
			continue
		}
		if !ok || r != (ByteRange{tc.start, tc.n}) {
			t.Fatalf("ParseRange(%q, %d) = %+v, %v; want {%d %d}", tc.in, tc.size, r, ok, tc.start, tc.n)
		}
	}
}

func TestContentRange(t *testing.T) {
	if got := (ByteRange{Start: 80, Length: 20}).ContentRange(100); got != "bytes 80-99/100" {
		t.Fatalf("ContentRange = %q", got)
	}
	if got := UnsatisfiedContentRange(0); got != "bytes */0" {
		t.Fatalf("UnsatisfiedContentRange = %q", got)
	}
}
