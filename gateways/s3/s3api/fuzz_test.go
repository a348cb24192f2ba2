package s3api

import (
	"bytes"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Every body parser is fuzzed for three properties: it never panics, every
// error is an *s3err.Error, and a document it accepts, once marshalled, is
// accepted again.

func fuzzBody[T any](f *testing.F, seeds []string, parse func(*bytes.Reader) (T, error), reparse func(*testing.T, T)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(""))
	f.Add([]byte("<"))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := parse(bytes.NewReader(in))
		mustS3Err(t, err)
		if err == nil && reparse != nil {
			reparse(t, v)
		}
	})
}

func remarshal[T Response](parse func(*bytes.Reader) (T, error)) func(*testing.T, T) {
	return func(t *testing.T, v T) {
		b, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", v, err)
		}
		if _, err := parse(bytes.NewReader(b)); err != nil {
			t.Fatalf("accepted %+v but not its marshalled form %s: %v", v, b, err)
		}
	}
}

func parser[T any](p func(r *bytes.Reader) (T, error)) func(*bytes.Reader) (T, error) { return p }

func FuzzParseCreateBucketConfiguration(f *testing.F) {
	fuzzBody(f, []string{
		`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`,
		`<CreateBucketConfiguration/>`,
	}, parser(func(r *bytes.Reader) (CreateBucketConfiguration, error) { return ParseCreateBucketConfiguration(r) }), nil)
}

func FuzzParseVersioningConfiguration(f *testing.F) {
	p := parser(func(r *bytes.Reader) (VersioningConfiguration, error) { return ParseVersioningConfiguration(r) })
	fuzzBody(f, []string{
		`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`,
		`<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`,
	}, p, remarshal(p))
}

func FuzzParseObjectLockConfiguration(f *testing.F) {
	p := parser(func(r *bytes.Reader) (ObjectLockConfiguration, error) { return ParseObjectLockConfiguration(r) })
	fuzzBody(f, []string{
		`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`,
		`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>`,
		`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>`,
	}, p, remarshal(p))
}

func FuzzParseLifecycleConfiguration(f *testing.F) {
	p := parser(func(r *bytes.Reader) (LifecycleConfiguration, error) { return ParseLifecycleConfiguration(r) })
	fuzzBody(f, []string{
		lifecycleXML(`<Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>`),
		lifecycleXML(`<Rule><Prefix></Prefix><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>`),
		lifecycleXML(`<Rule><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeLessThan>9</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>`),
		lifecycleXML(`<Rule><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`),
		lifecycleXML(`<Rule><Filter/><Status>Enabled</Status><Transition><Days>1</Days></Transition></Rule>`),
	}, p, remarshal(p))
}

func FuzzParseObjectTagging(f *testing.F) {
	p := parser(func(r *bytes.Reader) (Tagging, error) { return ParseObjectTagging(r) })
	fuzzBody(f, []string{tagsXML(Tag{"a", "1"}, Tag{"b", ""}), `<Tagging><TagSet/></Tagging>`, tagsXML(nTags(11)...)}, p, remarshal(p))
}

func FuzzParseBucketTagging(f *testing.F) {
	p := parser(func(r *bytes.Reader) (Tagging, error) { return ParseBucketTagging(r) })
	fuzzBody(f, []string{tagsXML(Tag{"日本", "語"}), tagsXML(nTags(50)...)}, p, remarshal(p))
}

func FuzzParseRetention(f *testing.F) {
	p := parser(func(r *bytes.Reader) (Retention, error) { return ParseRetention(r) })
	fuzzBody(f, []string{
		`<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-02T03:04:05Z</RetainUntilDate></Retention>`,
		`<Retention/>`,
	}, p, remarshal(p))
}

func FuzzParseLegalHold(f *testing.F) {
	p := parser(func(r *bytes.Reader) (LegalHold, error) { return ParseLegalHold(r) })
	fuzzBody(f, []string{`<LegalHold><Status>ON</Status></LegalHold>`}, p, remarshal(p))
}

func FuzzParseCompleteMultipartUpload(f *testing.F) {
	fuzzBody(f, []string{
		completeXML(partXML(1, `"`+md5A+`"`), partXML(2, md5A)),
		completeXML(`<Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`),
	}, parser(func(r *bytes.Reader) (CompleteMultipartUpload, error) { return ParseCompleteMultipartUpload(r) }),
		func(t *testing.T, c CompleteMultipartUpload) {
			prev := 0
			for _, p := range c.Parts {
				if p.PartNumber <= prev || p.PartNumber > MaxPartNumber || p.ETag == "" {
					t.Fatalf("accepted bad part list %+v", c.Parts)
				}
				prev = p.PartNumber
			}
		})
}

func FuzzParseDelete(f *testing.F) {
	fuzzBody(f, []string{
		`<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v</VersionId></Object></Delete>`,
		`<Delete><Object><Key>k</Key><ETag>"e"</ETag><LastModifiedTime>2024-01-02T03:04:05Z</LastModifiedTime><Size>1</Size></Object></Delete>`,
	}, parser(func(r *bytes.Reader) (Delete, error) { return ParseDelete(r) }),
		func(t *testing.T, d Delete) {
			if len(d.Objects) == 0 || len(d.Objects) > MaxDeleteObjects {
				t.Fatalf("accepted %d objects", len(d.Objects))
			}
		})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=5-2", "bytes=0-1,2-3", "bytes=99999999999999999999-", " Bytes = 1 - 2 ", ""} {
		for _, size := range []int64{0, 1, 100, 1 << 40} {
			f.Add(s, size)
		}
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		r, ok, err := ParseRange(h, size)
		mustS3Err(t, err)
		if err != nil {
			checkErr(t, err, s3err.ErrInvalidRange)
			if ok {
				t.Fatal("ok with an error")
			}
			return
		}
		if ok && (r.Start < 0 || r.Length <= 0 || r.Start > size-r.Length) {
			t.Fatalf("ParseRange(%q, %d) = %+v outside the object", h, size, r)
		}
	})
}

func FuzzParseCopySource(f *testing.F) {
	for _, s := range []string{"bucket/key", "/bucket/a%20b?versionId=v1", "bucket/%zz", "bucket/key?versionId=", "/", "bucket/dir%2F..%2Fx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cs, err := ParseCopySource(v)
		mustS3Err(t, err)
		if err != nil {
			return
		}
		if ValidBucketName(cs.Bucket) != nil || ValidObjectKey(cs.Key) != nil {
			t.Fatalf("ParseCopySource(%q) accepted %+v", v, cs)
		}
		again := cs.Bucket + "/" + url.PathEscape(cs.Key)
		if cs.VersionID != "" {
			again += "?versionId=" + url.QueryEscape(cs.VersionID)
		}
		back, err := ParseCopySource(again)
		if err != nil || back != cs {
			t.Fatalf("re-encoded %q parsed as %+v, %v; want %+v", again, back, err, cs)
		}
	})
}

func FuzzParseCopySourceRange(f *testing.F) {
	f.Add("bytes=0-9", int64(10))
	f.Add("bytes=5-2", int64(10))
	f.Add("bytes=-1", int64(10))
	f.Fuzz(func(t *testing.T, v string, size int64) {
		r, err := ParseCopySourceRange(v, size)
		mustS3Err(t, err)
		if err == nil && (r.Start < 0 || r.Length <= 0 || r.Start > size-r.Length) {
			t.Fatalf("ParseCopySourceRange(%q, %d) = %+v", v, size, r)
		}
	})
}

func FuzzParseTaggingHeader(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a", "my+key=my%20value", "a=1&a=2", "%zz", "aws%3Ax=1", FormatTaggingHeader(nTags(11))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tags, err := ParseTaggingHeader(v)
		mustS3Err(t, err)
		if err != nil {
			return
		}
		if err := ValidateTags(tags, MaxObjectTags); err != nil {
			t.Fatalf("accepted invalid tags %v: %v", tags, err)
		}
		back, err := ParseTaggingHeader(FormatTaggingHeader(tags))
		if err != nil || !reflect.DeepEqual(back, tags) {
			t.Fatalf("round trip of %v: %v, %v", tags, back, err)
		}
	})
}

func FuzzDecodeContinuationToken(f *testing.F) {
	f.Add(EncodeContinuationToken("key", ""))
	f.Add(EncodeContinuationToken("日本/語", "v1"))
	f.Add("")
	f.Add("AQ")
	f.Add("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
	f.Fuzz(func(t *testing.T, tok string) {
		k, v, err := DecodeContinuationToken(tok)
		mustS3Err(t, err)
		if err != nil {
			return
		}
		if !utf8.ValidString(k) || len(k) > MaxKeyLength || len(v) > MaxKeyLength {
			t.Fatalf("decoded a bad key %q / %q", k, v)
		}
		k2, v2, err := DecodeContinuationToken(EncodeContinuationToken(k, v))
		if err != nil || k2 != k || v2 != v {
			t.Fatalf("re-encoded (%q, %q) decoded as (%q, %q), %v", k, v, k2, v2, err)
		}
	})
}

func FuzzEncodeName(f *testing.F) {
	f.Add("a b+c%d/日本~*")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := url.QueryUnescape(encodeName(s))
		if err != nil || got != s {
			t.Fatalf("QueryUnescape(encodeName(%q)) = %q, %v", s, got, err)
		}
	})
}

func FuzzEvalConditions(f *testing.F) {
	f.Add("GET", `"abc"`, "", "W/\"abc\", *", "Wed, 01 May 2024 12:00:00 GMT", "")
	f.Fuzz(func(t *testing.T, method, ifMatch, ifUnmod, ifNone, ifMod, etag string) {
		h := http.Header{}
		for k, v := range map[string]string{"If-Match": ifMatch, "If-Unmodified-Since": ifUnmod, "If-None-Match": ifNone, "If-Modified-Since": ifMod} {
			if v != "" {
				h.Set(k, v)
			}
		}
		err := EvalConditions(method, h, etag, lm.Time())
		mustS3Err(t, err)
		if err != nil && !strings.Contains("NotModified PreconditionFailed", s3err.As(err).Code) {
			t.Fatalf("unexpected code %v", err)
		}
	})
}
