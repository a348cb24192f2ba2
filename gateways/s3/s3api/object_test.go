package s3api

import (
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestValidObjectKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want *s3err.Error
	}{
		{"a", nil},
		{"photos/2006/February/sample.jpg", nil},
		{"/leading/slash", nil},
		{"a//b", nil},
		{"trailing/", nil},
		{"..a/b..", nil},
		{".hidden", nil},
		{"a/.../b", nil},
		{"日本語/キー", nil},
		{"sp ace+plus%pct", nil},
		{"ctrl\x01char", nil},
		{strings.Repeat("k", 1024), nil},
		{strings.Repeat("é", 512), nil},
		{"", s3err.ErrInvalidArgument},
		{strings.Repeat("k", 1025), s3err.ErrKeyTooLong},
		{strings.Repeat("é", 513), s3err.ErrKeyTooLong},
		{"bad\xffutf8", s3err.ErrInvalidArgument},
		{"nul\x00", s3err.ErrInvalidArgument},
		{".", s3err.ErrInvalidArgument},
		{"..", s3err.ErrInvalidArgument},
		{"../etc/passwd", s3err.ErrInvalidArgument},
		{"a/../b", s3err.ErrInvalidArgument},
		{"a/./b", s3err.ErrInvalidArgument},
		{"a/..", s3err.ErrInvalidArgument},
		{"/./", s3err.ErrInvalidArgument},
	} {
		checkErr(t, ValidObjectKey(tc.key), tc.want)
	}
}
