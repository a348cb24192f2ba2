package s3api

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestDecodeBodyEnvelope(t *testing.T) {
	const ok = `<LegalHold><Status>ON</Status></LegalHold>`
	for _, tc := range []struct {
		name string
		in   string
		want *s3err.Error
	}{
		{"plain", ok, nil},
		{"namespace", `<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>`, nil},
		{"other namespace", `<LegalHold xmlns="urn:x"><Status>ON</Status></LegalHold>`, nil},
		{"declaration", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + ok, nil},
		{"declaration lower utf-8", `<?xml version="1.0" encoding="utf-8"?>` + ok, nil},
		{"declaration ascii", `<?xml version="1.0" encoding="US-ASCII"?>` + ok, nil},
		{"declaration latin1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + ok, s3err.ErrMalformedXML},
		{"trailing whitespace and comment", ok + "\n  <!-- x -->\n", nil},
		{"unknown elements ignored", `<LegalHold><Foo>1</Foo><Status>ON</Status></LegalHold>`, nil},
		{"empty", "", s3err.ErrMalformedXML},
		{"blank", " \n\t", s3err.ErrMalformedXML},
		{"not xml", "Status=ON", s3err.ErrMalformedXML},
		{"truncated", `<LegalHold><Status>ON</Status>`, s3err.ErrMalformedXML},
		{"wrong root", `<Retention><Status>ON</Status></Retention>`, s3err.ErrMalformedXML},
		{"second root", ok + ok, s3err.ErrMalformedXML},
		{"trailing text", ok + "junk", s3err.ErrMalformedXML},
		{"mismatched tags", `<LegalHold><Status>ON</Stat></LegalHold>`, s3err.ErrMalformedXML},
		{"undefined entity", `<LegalHold><Status>&bogus;</Status></LegalHold>`, s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLegalHold(body(tc.in))
			checkErr(t, err, tc.want)
		})
	}
}

func TestDecodeBodyLimit(t *testing.T) {
	pad := func(n int) string {
		// A comment pads the body without changing the document.
		const open, closing = "<!--", "-->"
		return open + strings.Repeat("x", n-len(open)-len(closing)) + closing
	}
	doc := `<LegalHold><Status>ON</Status></LegalHold>`
	exact := doc + pad(MaxConfigBodySize-len(doc))
	if len(exact) != MaxConfigBodySize {
		t.Fatalf("padding: %d bytes", len(exact))
	}
	_, err := ParseLegalHold(body(exact))
	checkErr(t, err, nil)
	_, err = ParseLegalHold(body(exact + " "))
	checkErr(t, err, s3err.ErrMaxMessageLengthExceeded)

	// The limit holds however long the reader is: it is not read to the end.
	r := io.MultiReader(body(doc), &endless{})
	_, err = ParseLegalHold(r)
	checkErr(t, err, s3err.ErrMaxMessageLengthExceeded)
}

type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestDecodeBodyReadError(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := ParseLegalHold(iotest.ErrReader(boom))
	checkErr(t, err, s3err.ErrIncompleteBody)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the read error", err)
	}
	// A reader that returns data one byte at a time still parses.
	_, err = ParseLegalHold(iotest.OneByteReader(body(`<LegalHold><Status>OFF</Status></LegalHold>`)))
	checkErr(t, err, nil)
}

func TestTimestamp(t *testing.T) {
	ts := Timestamp(time.Date(2024, 3, 1, 12, 30, 5, 123456789, time.FixedZone("x", 3600)))
	b, err := ts.MarshalText()
	checkErr(t, err, nil)
	if string(b) != "2024-03-01T11:30:05.123Z" {
		t.Fatalf("MarshalText = %s", b)
	}
	for _, in := range []string{"2024-03-01T11:30:05.123Z", "2024-03-01T11:30:05.123000Z", "2024-03-01T12:30:05.123+01:00", " 2024-03-01T11:30:05.123Z "} {
		var got Timestamp
		if err := got.UnmarshalText([]byte(in)); err != nil {
			t.Fatalf("UnmarshalText(%q): %v", in, err)
		}
		if !got.Time().Equal(time.Date(2024, 3, 1, 11, 30, 5, 123e6, time.UTC)) {
			t.Fatalf("UnmarshalText(%q) = %v", in, got.Time())
		}
	}
	var got Timestamp
	checkErr(t, got.UnmarshalText([]byte("yesterday")), s3err.ErrMalformedXML)
	_, err = ParseISO8601("2024-13-01T00:00:00Z")
	checkErr(t, err, s3err.ErrInvalidArgument)
	if s := FormatISO8601(time.Unix(0, 0)); s != "1970-01-01T00:00:00.000Z" {
		t.Fatalf("FormatISO8601 = %s", s)
	}
}

func TestHTTPTime(t *testing.T) {
	tm := time.Date(2015, 10, 21, 7, 28, 0, 999, time.FixedZone("PDT", -7*3600))
	if got := FormatHTTPTime(tm); got != "Wed, 21 Oct 2015 14:28:00 GMT" {
		t.Fatalf("FormatHTTPTime = %q", got)
	}
	for _, in := range []string{"Wed, 21 Oct 2015 14:28:00 GMT", "Wednesday, 21-Oct-15 14:28:00 GMT", "Wed Oct 21 14:28:00 2015"} {
		got, ok := ParseHTTPTime(in)
		if !ok || !got.Equal(time.Date(2015, 10, 21, 14, 28, 0, 0, time.UTC)) {
			t.Fatalf("ParseHTTPTime(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := ParseHTTPTime("2015-10-21"); ok {
		t.Fatal("ParseHTTPTime accepted an ISO date")
	}
}

func TestMarshalEnvelope(t *testing.T) {
	b, err := Marshal(LegalHold{Status: LegalHoldOn})
	checkErr(t, err, nil)
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>`
	if string(b) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", b, want)
	}
	// Marshalled documents parse back.
	h, err := ParseLegalHold(bytes.NewReader(b))
	checkErr(t, err, nil)
	if h.Status != LegalHoldOn {
		t.Fatalf("round trip: %+v", h)
	}
}
