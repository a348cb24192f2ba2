package sigv4

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestCanonicalURI(t *testing.T) {
	cases := []struct{ target, want string }{
		{"/", "/"},
		{"/bucket", "/bucket"},
		{"/bucket/", "/bucket/"},
		{"/bucket/a%20b", "/bucket/a%20b"},
		{"/bucket/a+b", "/bucket/a%2Bb"},
		{"/bucket/a%2Bb", "/bucket/a%2Bb"},
		{"/bucket/%7Etilde~", "/bucket/~tilde~"},
		{"/bucket/a=b&c", "/bucket/a%3Db%26c"},
		{"/bucket/%e6%97%a5", "/bucket/%E6%97%A5"},
		{"/bucket/日本", "/bucket/%E6%97%A5%E6%9C%AC"},
		{"/bucket/a%2Fb", "/bucket/a%2Fb"},
		{"/bucket/a%2fb/c", "/bucket/a%2Fb/c"},
		{"/bucket/a/b", "/bucket/a/b"},
		{"/bucket//x/./../y", "/bucket//x/./../y"},
		{"/bucket/100%25", "/bucket/100%25"},
		{"/bucket/a!b*c'(d)", "/bucket/a%21b%2Ac%27%28d%29"},
		{"/bucket/semi;colon,comma", "/bucket/semi%3Bcolon%2Ccomma"},
		{"/bucket/a:b@c$d", "/bucket/a%3Ab%40c%24d"},
		{"/bucket/%3F%23", "/bucket/%3F%23"},
		{"/bucket/sp%20%20ace", "/bucket/sp%20%20ace"},
		{"/bucket/-_.~", "/bucket/-_.~"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", tc.target, nil)
		if got := canonicalURI(r.URL); got != tc.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.target, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct{ raw, skip, want string }{
		{"", "", ""},
		{"b=2&a=1", "", "a=1&b=2"},
		{"a=2&a=1", "", "a=1&a=2"},
		{"acl", "", "acl="},
		{"a=b+c", "", "a=b%20c"},
		{"a=b%2Bc", "", "a=b%2Bc"},
		{"k=%7e", "", "k=~"},
		{"a-b=1&a%2Fb=2&a=3", "", "a=3&a%2Fb=2&a-b=1"},
		{"&&a=1&", "", "a=1"},
		{"=v", "", "=v"},
		{"a=%E6%97%A5&b=*!'()", "", "a=%E6%97%A5&b=%2A%21%27%28%29"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", "X-Amz-Signature", "X-Amz-Date=1"},
		{"x=a=b", "", "x=a%3Db"},
	}
	for _, tc := range cases {
		params, err := parseQuery(tc.raw)
		if err != nil {
			t.Fatalf("parseQuery(%q): %v", tc.raw, err)
		}
		if got := canonicalQuery(params, tc.skip); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	if _, err := parseQuery("x=%zz"); err == nil {
		t.Error("parseQuery accepted an invalid escape")
	}
}

func TestTrimAll(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"a":              "a",
		"  a  ":          "a",
		"a   b    c":     "a b c",
		"\ta b\t":        "a b",
		"a\t\tb":         "a\t\tb",
		"text/plain;  x": "text/plain; x",
	} {
		if got := trimAll(in); got != want {
			t.Errorf("trimAll(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalRequestHeaders(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://bucket.example:9000/k?b=1&a=2", strings.NewReader("hello"))
	r.Header.Add("X-Amz-Meta-A", "  one  ")
	r.Header.Add("X-Amz-Meta-A", "two   three")
	r.Header.Set("X-Amz-Date", "20260314T150926Z")
	signed := []string{"content-length", "host", "x-amz-date", "x-amz-meta-a"}
	got, err := canonicalRequest(r, signed, strings.Join(signed, ";"), UnsignedPayload, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "PUT\n/k\na=2&b=1\n" +
		"content-length:5\nhost:bucket.example:9000\nx-amz-date:20260314T150926Z\nx-amz-meta-a:one,two three\n\n" +
		"content-length;host;x-amz-date;x-amz-meta-a\nUNSIGNED-PAYLOAD"
	if got != want {
		t.Fatalf("canonical request\n%s\nwant\n%s", got, want)
	}
	// A signed header the request lacks.
	_, err = canonicalRequest(r, []string{"host", "x-amz-missing"}, "host;x-amz-missing", UnsignedPayload, "")
	if !errors.Is(err, s3err.ErrSignatureDoesNotMatch) {
		t.Fatalf("missing signed header: %v", err)
	}
	// Transfer-Encoding is rebuilt from the request when net/http moved it.
	r2 := httptest.NewRequest("PUT", "http://h/k", nil)
	r2.TransferEncoding = []string{"chunked"}
	r2.ContentLength = -1
	got, err = canonicalRequest(r2, []string{"host", "transfer-encoding"}, "host;transfer-encoding", UnsignedPayload, "")
	if err != nil || !strings.Contains(got, "\ntransfer-encoding:chunked\n") {
		t.Fatalf("transfer-encoding: %q, %v", got, err)
	}
	_, err = canonicalRequest(r2, []string{"content-length", "host"}, "content-length;host", UnsignedPayload, "")
	if !errors.Is(err, s3err.ErrSignatureDoesNotMatch) {
		t.Fatalf("content-length of a chunked request: %v", err)
	}
}
