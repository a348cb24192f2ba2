package s3api

import (
	"net/http"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestEvalConditions(t *testing.T) {
	const etag = `"abc"`
	mod := time.Date(2024, 5, 1, 12, 0, 0, 500e6, time.UTC) // sub-second part ignored
	const (
		before = "Wed, 01 May 2024 11:59:59 GMT"
		at     = "Wed, 01 May 2024 12:00:00 GMT"
		after  = "Wed, 01 May 2024 12:00:01 GMT"
	)
	type hs = map[string]string
	for _, tc := range []struct {
		name   string
		method string
		h      hs
		want   *s3err.Error
	}{
		{"none", "GET", hs{}, nil},
		{"if-match hit", "GET", hs{"If-Match": `"abc"`}, nil},
		{"if-match bare", "GET", hs{"If-Match": `abc`}, nil},
		{"if-match list", "GET", hs{"If-Match": `"x", "abc"`}, nil},
		{"if-match star", "GET", hs{"If-Match": `*`}, nil},
		{"if-match miss", "GET", hs{"If-Match": `"x"`}, s3err.ErrPreconditionFailed},
		{"if-match weak never matches", "GET", hs{"If-Match": `W/"abc"`}, s3err.ErrPreconditionFailed},
		{"if-match miss head", "HEAD", hs{"If-Match": `"x"`}, s3err.ErrPreconditionFailed},
		{"unmodified since later", "GET", hs{"If-Unmodified-Since": after}, nil},
		{"unmodified since same second", "GET", hs{"If-Unmodified-Since": at}, nil},
		{"unmodified since earlier", "GET", hs{"If-Unmodified-Since": before}, s3err.ErrPreconditionFailed},
		{"unmodified since garbage ignored", "GET", hs{"If-Unmodified-Since": "yesterday"}, nil},
		// S3: If-Match true and If-Unmodified-Since false -> 200.
		{"if-match overrides unmodified", "GET", hs{"If-Match": etag, "If-Unmodified-Since": before}, nil},
		{"if-match miss with unmodified ok", "GET", hs{"If-Match": `"x"`, "If-Unmodified-Since": after}, s3err.ErrPreconditionFailed},
		{"if-none-match hit", "GET", hs{"If-None-Match": etag}, s3err.ErrNotModified},
		{"if-none-match weak hit", "GET", hs{"If-None-Match": `W/"abc"`}, s3err.ErrNotModified},
		{"if-none-match star", "HEAD", hs{"If-None-Match": `*`}, s3err.ErrNotModified},
		{"if-none-match miss", "GET", hs{"If-None-Match": `"x"`}, nil},
		{"if-none-match put", "PUT", hs{"If-None-Match": etag}, s3err.ErrPreconditionFailed},
		{"if-none-match delete", "DELETE", hs{"If-None-Match": `*`}, s3err.ErrPreconditionFailed},
		{"modified since earlier", "GET", hs{"If-Modified-Since": before}, nil},
		{"modified since same second", "GET", hs{"If-Modified-Since": at}, s3err.ErrNotModified},
		{"modified since later", "GET", hs{"If-Modified-Since": after}, s3err.ErrNotModified},
		{"modified since garbage ignored", "GET", hs{"If-Modified-Since": "2024-05-01"}, nil},
		{"modified since on put ignored", "PUT", hs{"If-Modified-Since": after}, nil},
		// S3: If-None-Match false and If-Modified-Since true -> 304.
		{"if-none-match overrides modified", "GET", hs{"If-None-Match": etag, "If-Modified-Since": before}, s3err.ErrNotModified},
		{"if-none-match miss overrides modified", "GET", hs{"If-None-Match": `"x"`, "If-Modified-Since": after}, nil},
		{"412 before 304", "GET", hs{"If-Match": `"x"`, "If-None-Match": etag}, s3err.ErrPreconditionFailed},
		{"unmodified 412 before 304", "GET", hs{"If-Unmodified-Since": before, "If-Modified-Since": after}, s3err.ErrPreconditionFailed},
		{"blank headers ignored", "GET", hs{"If-Match": " ", "If-None-Match": ""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			checkErr(t, EvalConditions(tc.method, h, etag, mod), tc.want)
		})
	}
}

func TestEvalCopySourceConditions(t *testing.T) {
	mod := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	const (
		before = "Wed, 01 May 2024 11:00:00 GMT"
		after  = "Wed, 01 May 2024 13:00:00 GMT"
	)
	type hs = map[string]string
	for _, tc := range []struct {
		name string
		h    hs
		want *s3err.Error
	}{
		{"none", hs{}, nil},
		{"match", hs{"x-amz-copy-source-if-match": `"abc"`}, nil},
		{"match miss", hs{"x-amz-copy-source-if-match": `"x"`}, s3err.ErrPreconditionFailed},
		{"unmodified miss", hs{"x-amz-copy-source-if-unmodified-since": before}, s3err.ErrPreconditionFailed},
		{"match overrides unmodified", hs{"x-amz-copy-source-if-match": `abc`, "x-amz-copy-source-if-unmodified-since": before}, nil},
		{"none-match hit", hs{"x-amz-copy-source-if-none-match": `"abc"`}, s3err.ErrPreconditionFailed},
		{"none-match miss", hs{"x-amz-copy-source-if-none-match": `"x"`}, nil},
		{"modified since later", hs{"x-amz-copy-source-if-modified-since": after}, s3err.ErrPreconditionFailed},
		{"modified since earlier", hs{"x-amz-copy-source-if-modified-since": before}, nil},
		// S3: none-match false and modified-since true -> 412.
		{"none-match overrides modified", hs{"x-amz-copy-source-if-none-match": `"abc"`, "x-amz-copy-source-if-modified-since": before}, s3err.ErrPreconditionFailed},
		{"plain headers do not apply", hs{"If-Match": `"x"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			checkErr(t, EvalCopySourceConditions(h, "abc", mod), tc.want)
		})
	}
}

func TestEvalWriteConditions(t *testing.T) {
	type hs = map[string]string
	for _, tc := range []struct {
		name   string
		h      hs
		exists bool
		want   *s3err.Error
	}{
		{"none new", hs{}, false, nil},
		{"none existing", hs{}, true, nil},
		{"create only, new", hs{"If-None-Match": "*"}, false, nil},
		{"create only, exists", hs{"If-None-Match": "*"}, true, s3err.ErrPreconditionFailed},
		{"none-match etag", hs{"If-None-Match": `"abc"`}, false, s3err.ErrNotImplemented},
		{"swap hit", hs{"If-Match": `"abc"`}, true, nil},
		{"swap bare", hs{"If-Match": `abc`}, true, nil},
		{"swap miss", hs{"If-Match": `"x"`}, true, s3err.ErrPreconditionFailed},
		{"swap missing object", hs{"If-Match": `"abc"`}, false, s3err.ErrNoSuchKey},
		{"swap star", hs{"If-Match": `*`}, true, nil},
		{"dates ignored", hs{"If-Unmodified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			checkErr(t, EvalWriteConditions(h, tc.exists, `"abc"`), tc.want)
		})
	}
}
