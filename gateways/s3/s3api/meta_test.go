package s3api

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestParseStorageClass(t *testing.T) {
	for in, want := range map[string]StorageClass{
		"": StorageStandard, "STANDARD": StorageStandard, "REDUCED_REDUNDANCY": StorageReducedRedundancy,
		"STANDARD_IA": StorageStandardIA, "ONEZONE_IA": StorageOneZoneIA, "INTELLIGENT_TIERING": StorageIntelligentTiering,
		"GLACIER_IR": StorageGlacierIR,
	} {
		got, err := ParseStorageClass(in)
		checkErr(t, err, nil)
		if got != want {
			t.Fatalf("ParseStorageClass(%q) = %q", in, got)
		}
	}
	for _, in := range []string{"GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE", "standard", "COLD"} {
		_, err := ParseStorageClass(in)
		checkErr(t, err, s3err.ErrInvalidStorageClass)
	}
}

func TestParseObjectMeta(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Disposition", `attachment; filename="a.txt"`)
	h.Set("Content-Language", "en")
	h.Set("Cache-Control", "no-cache")
	h.Set("Expires", "not a date")
	h.Set("X-Amz-Storage-Class", "STANDARD_IA")
	h.Set("X-Amz-Website-Redirect-Location", "/other")
	h.Set("X-Amz-Meta-Color", "blue")
	h.Add("X-Amz-Meta-Multi", "a")
	h.Add("X-Amz-Meta-Multi", "b")
	h["x-amz-meta-lower"] = []string{"v"}
	h.Set("X-Amz-Date", "20240101T000000Z")
	m, err := ParseObjectMeta(h)
	checkErr(t, err, nil)
	want := ObjectMeta{
		ContentType: "text/plain", ContentEncoding: "gzip", ContentDisposition: `attachment; filename="a.txt"`,
		ContentLanguage: "en", CacheControl: "no-cache", Expires: "not a date", StorageClass: StorageStandardIA,
		WebsiteRedirectLocation: "/other",
		User:                    map[string]string{"color": "blue", "multi": "a,b", "lower": "v"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("ParseObjectMeta =\n%+v\nwant\n%+v", m, want)
	}

	out := http.Header{}
	m.WriteHeaders(out)
	for k, v := range map[string]string{
		"Content-Type": "text/plain", "Content-Encoding": "gzip", "Content-Language": "en", "Cache-Control": "no-cache",
		"Expires": "not a date", "X-Amz-Storage-Class": "STANDARD_IA", "X-Amz-Website-Redirect-Location": "/other",
	} {
		if out.Get(k) != v {
			t.Fatalf("%s = %q, want %q", k, out.Get(k), v)
		}
	}
	for k, v := range map[string]string{"x-amz-meta-color": "blue", "x-amz-meta-multi": "a,b", "x-amz-meta-lower": "v"} {
		if got := out[k]; len(got) != 1 || got[0] != v {
			t.Fatalf("%s = %q, want %q (lowercase name, as S3 sends)", k, got, v)
		}
	}
	back, err := ParseObjectMeta(out)
	checkErr(t, err, nil)
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip =\n%+v\nwant\n%+v", back, want)
	}
}

func TestParseObjectMetaDefaults(t *testing.T) {
	m, err := ParseObjectMeta(http.Header{})
	checkErr(t, err, nil)
	if m.StorageClass != StorageStandard || m.User != nil {
		t.Fatalf("%+v", m)
	}
	out := http.Header{}
	m.WriteHeaders(out)
	if out.Get("Content-Type") != DefaultContentType || len(out) != 1 {
		t.Fatalf("headers %v", out)
	}
}

func TestParseObjectMetaErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    map[string]string
		want *s3err.Error
	}{
		{"at limit", map[string]string{"X-Amz-Meta-K": strings.Repeat("v", MaxUserMetadataSize-1)}, nil},
		{"over limit", map[string]string{"X-Amz-Meta-K": strings.Repeat("v", MaxUserMetadataSize)}, s3err.ErrMetadataTooLarge},
		{"over limit in sum", map[string]string{"X-Amz-Meta-A": strings.Repeat("v", 1023), "X-Amz-Meta-B": strings.Repeat("v", 1024)}, s3err.ErrMetadataTooLarge},
		{"empty name", map[string]string{"X-Amz-Meta-": "v"}, s3err.ErrInvalidArgument},
		{"bad class", map[string]string{"X-Amz-Storage-Class": "GLACIER"}, s3err.ErrInvalidStorageClass},
		{"bad redirect", map[string]string{"X-Amz-Website-Redirect-Location": "ftp://x"}, s3err.ErrInvalidArgument},
		{"absolute redirect", map[string]string{"X-Amz-Website-Redirect-Location": "https://example.com/x"}, nil},
		{"long redirect", map[string]string{"X-Amz-Website-Redirect-Location": "/" + strings.Repeat("r", MaxWebsiteRedirectLength)}, s3err.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.h {
				h[k] = []string{v}
			}
			_, err := ParseObjectMeta(h)
			checkErr(t, err, tc.want)
		})
	}
}

func TestApplyResponseOverrides(t *testing.T) {
	m := ObjectMeta{ContentType: "text/plain", CacheControl: "max-age=1"}
	m.ApplyResponseOverrides(url.Values{
		"response-content-type":        {"application/json"},
		"response-content-disposition": {"attachment"},
		"response-expires":             {"Thu, 01 Dec 1994 16:00:00 GMT"},
		"unrelated":                    {"x"},
	})
	want := ObjectMeta{ContentType: "application/json", CacheControl: "max-age=1", ContentDisposition: "attachment", Expires: "Thu, 01 Dec 1994 16:00:00 GMT"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("%+v", m)
	}
}
