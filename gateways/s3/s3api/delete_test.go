package s3api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestParseDelete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		want  *s3err.Error
		check func(*testing.T, Delete)
	}{
		{name: "quiet", in: `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v1</VersionId></Object></Delete>`,
			check: func(t *testing.T, d Delete) {
				if !d.Quiet || len(d.Objects) != 2 || d.Objects[0].Key != "a" || d.Objects[1].VersionID != "v1" {
					t.Fatalf("%+v", d)
				}
			}},
		{name: "not quiet", in: `<Delete><Object><Key>a</Key></Object></Delete>`,
			check: func(t *testing.T, d Delete) {
				if d.Quiet {
					t.Fatal("Quiet set")
				}
			}},
		{name: "conditions", in: `<Delete><Object><Key>a b&amp;c</Key><ETag>"abc"</ETag><LastModifiedTime>2024-01-02T03:04:05.000Z</LastModifiedTime><Size>42</Size></Object></Delete>`,
			check: func(t *testing.T, d Delete) {
				o := d.Objects[0]
				if o.Key != "a b&c" || o.ETag != "abc" || o.LastModifiedTime == nil || !o.LastModifiedTime.Time().Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || o.Size == nil || *o.Size != 42 {
					t.Fatalf("%+v", o)
				}
			}},
		{name: "invalid keys are the caller's", in: `<Delete><Object><Key>../x</Key></Object></Delete>`},
		{name: "no objects", in: `<Delete><Quiet>true</Quiet></Delete>`, want: s3err.ErrMalformedXML},
		{name: "no key", in: `<Delete><Object><VersionId>v</VersionId></Object></Delete>`, want: s3err.ErrMalformedXML},
		{name: "empty key", in: `<Delete><Object><Key></Key></Object></Delete>`, want: s3err.ErrMalformedXML},
		{name: "bad quiet", in: `<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>`, want: s3err.ErrMalformedXML},
		{name: "wrong root", in: `<DeleteObjects><Object><Key>a</Key></Object></DeleteObjects>`, want: s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDelete(body(tc.in))
			checkErr(t, err, tc.want)
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func TestParseDeleteLimits(t *testing.T) {
	doc := func(n, keyLen int) string {
		var b strings.Builder
		b.WriteString(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>false</Quiet>`)
		for i := range n {
			// Keys of '&' escape to five bytes each: the worst common case.
			key := fmt.Sprintf("%04d", i) + strings.Repeat("&amp;", keyLen-4)
			fmt.Fprintf(&b, "<Object><Key>%s</Key><VersionId>%s</VersionId></Object>", key, strings.Repeat("v", 64))
		}
		b.WriteString(`</Delete>`)
		return b.String()
	}
	in := doc(MaxDeleteObjects, MaxKeyLength)
	if len(in) > MaxDeleteBodySize {
		t.Fatalf("1000 escaped 1024-byte keys take %d bytes", len(in))
	}
	d, err := ParseDelete(body(in))
	checkErr(t, err, nil)
	if len(d.Objects) != MaxDeleteObjects || len(d.Objects[999].Key) != MaxKeyLength {
		t.Fatalf("%d objects, last key %d bytes", len(d.Objects), len(d.Objects[999].Key))
	}
	_, err = ParseDelete(body(doc(MaxDeleteObjects+1, 4)))
	checkErr(t, err, s3err.ErrMalformedXML)
	_, err = ParseDelete(body(strings.Repeat(" ", MaxDeleteBodySize+1)))
	checkErr(t, err, s3err.ErrMaxMessageLengthExceeded)
}

func TestDeleteResultGolden(t *testing.T) {
	r := DeleteResult{
		Deleted: []DeletedObject{
			{Key: "sample1.txt"},
			{Key: "sample2.txt", DeleteMarker: true, DeleteMarkerVersionID: "NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s"},
			{Key: "sample3.txt", VersionID: "v3"},
		},
		Errors: []DeleteError{NewDeleteError("sample4.txt", "v4", s3err.ErrAccessDenied)},
	}
	checkGolden(t, r, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`+
		`<Deleted><Key>sample1.txt</Key></Deleted>`+
		`<Deleted><Key>sample2.txt</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>NeQt5xeFTfgPJD8B4CGWnkSLtluMr11s</DeleteMarkerVersionId></Deleted>`+
		`<Deleted><Key>sample3.txt</Key><VersionId>v3</VersionId></Deleted>`+
		`<Error><Key>sample4.txt</Key><VersionId>v4</VersionId><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`+
		`</DeleteResult>`)
	checkGolden(t, DeleteResult{}, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>`)
	e := NewDeleteError("k", "", fmt.Errorf("disk on fire"))
	if e.Code != "InternalError" {
		t.Fatalf("plain error reported as %s", e.Code)
	}
}
