package s3api

import (
	"net/http"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestParseObjectLockConfiguration(t *testing.T) {
	rule := func(inner string) string {
		return `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>` + inner + `</DefaultRetention></Rule></ObjectLockConfiguration>`
	}
	for _, tc := range []struct {
		name, in string
		want     *s3err.Error
		check    func(*testing.T, ObjectLockConfiguration)
	}{
		{name: "enabled only", in: `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`,
			check: func(t *testing.T, c ObjectLockConfiguration) {
				if c.Rule != nil {
					t.Fatalf("Rule = %+v", c.Rule)
				}
			}},
		{name: "days", in: rule(`<Mode>GOVERNANCE</Mode><Days>30</Days>`),
			check: func(t *testing.T, c ObjectLockConfiguration) {
				d := c.Rule.DefaultRetention
				if d.Mode != Governance || d.Days == nil || *d.Days != 30 || d.Years != nil {
					t.Fatalf("DefaultRetention = %+v", d)
				}
			}},
		{name: "years", in: rule(`<Mode>COMPLIANCE</Mode><Years>100</Years>`),
			check: func(t *testing.T, c ObjectLockConfiguration) {
				d := c.Rule.DefaultRetention
				if d.Mode != Compliance || d.Years == nil || *d.Years != 100 {
					t.Fatalf("DefaultRetention = %+v", d)
				}
			}},
		{name: "max days", in: rule(`<Mode>COMPLIANCE</Mode><Days>36500</Days>`)},
		{name: "not enabled", in: `<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>`, want: s3err.ErrMalformedXML},
		{name: "missing enabled", in: `<ObjectLockConfiguration><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>`, want: s3err.ErrMalformedXML},
		{name: "rule without retention", in: `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule></Rule></ObjectLockConfiguration>`, want: s3err.ErrMalformedXML},
		{name: "bad mode", in: rule(`<Mode>governance</Mode><Days>1</Days>`), want: s3err.ErrMalformedXML},
		{name: "no mode", in: rule(`<Days>1</Days>`), want: s3err.ErrMalformedXML},
		{name: "both", in: rule(`<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>`), want: s3err.ErrMalformedXML},
		{name: "neither", in: rule(`<Mode>GOVERNANCE</Mode>`), want: s3err.ErrMalformedXML},
		{name: "zero days", in: rule(`<Mode>GOVERNANCE</Mode><Days>0</Days>`), want: s3err.ErrInvalidRetentionPeriod},
		{name: "negative years", in: rule(`<Mode>GOVERNANCE</Mode><Years>-1</Years>`), want: s3err.ErrInvalidRetentionPeriod},
		{name: "too many days", in: rule(`<Mode>GOVERNANCE</Mode><Days>36501</Days>`), want: s3err.ErrInvalidRetentionPeriod},
		{name: "too many years", in: rule(`<Mode>GOVERNANCE</Mode><Years>101</Years>`), want: s3err.ErrInvalidRetentionPeriod},
		{name: "days not a number", in: rule(`<Mode>GOVERNANCE</Mode><Days>ten</Days>`), want: s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseObjectLockConfiguration(body(tc.in))
			checkErr(t, err, tc.want)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestDefaultRetentionRetainUntil(t *testing.T) {
	created := time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	if got := (DefaultRetention{Days: ptr(1)}).RetainUntil(created); !got.Equal(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("1 day: %v", got)
	}
	if got := (DefaultRetention{Years: ptr(1)}).RetainUntil(created); !got.Equal(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("1 year: %v", got)
	}
}

func TestParseRetention(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		mode     RetentionMode
		until    time.Time
		want     *s3err.Error
	}{
		{"governance", `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-02T03:04:05Z</RetainUntilDate></Retention>`, Governance, until, nil},
		{"millis", `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-02T03:04:05.000Z</RetainUntilDate></Retention>`, Compliance, until, nil},
		{"offset", `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-02T04:04:05+01:00</RetainUntilDate></Retention>`, Compliance, until, nil},
		{"past date is the caller's concern", `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2000-01-02T03:04:05Z</RetainUntilDate></Retention>`, Compliance, time.Date(2000, 1, 2, 3, 4, 5, 0, time.UTC), nil},
		{"empty removes", `<Retention/>`, "", time.Time{}, nil},
		{"mode only", `<Retention><Mode>GOVERNANCE</Mode></Retention>`, "", time.Time{}, s3err.ErrMalformedXML},
		{"date only", `<Retention><RetainUntilDate>2030-01-02T03:04:05Z</RetainUntilDate></Retention>`, "", time.Time{}, s3err.ErrMalformedXML},
		{"bad mode", `<Retention><Mode>LOCKED</Mode><RetainUntilDate>2030-01-02T03:04:05Z</RetainUntilDate></Retention>`, "", time.Time{}, s3err.ErrMalformedXML},
		{"bad date", `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-02</RetainUntilDate></Retention>`, "", time.Time{}, s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRetention(body(tc.in))
			checkErr(t, err, tc.want)
			if r.Mode != tc.mode {
				t.Fatalf("Mode = %q, want %q", r.Mode, tc.mode)
			}
			var got time.Time
			if r.RetainUntilDate != nil {
				got = r.RetainUntilDate.Time()
			}
			if !got.Equal(tc.until) {
				t.Fatalf("RetainUntilDate = %v, want %v", got, tc.until)
			}
		})
	}
}

func TestParseLegalHold(t *testing.T) {
	for in, want := range map[string]*s3err.Error{
		`<LegalHold><Status>ON</Status></LegalHold>`:  nil,
		`<LegalHold><Status>OFF</Status></LegalHold>`: nil,
		`<LegalHold><Status>on</Status></LegalHold>`:  s3err.ErrMalformedXML,
		`<LegalHold></LegalHold>`:                     s3err.ErrMalformedXML,
	} {
		_, err := ParseLegalHold(body(in))
		checkErr(t, err, want)
	}
}

func TestObjectLockResponsesGolden(t *testing.T) {
	until := Timestamp(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	checkGolden(t, Retention{Mode: Compliance, RetainUntilDate: &until},
		`<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-02T03:04:05.000Z</RetainUntilDate></Retention>`)
	checkGolden(t, ObjectLockConfiguration{ObjectLockEnabled: ObjectLockEnabled},
		`<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`)
	checkGolden(t, ObjectLockConfiguration{ObjectLockEnabled: ObjectLockEnabled, Rule: &ObjectLockRule{DefaultRetention: &DefaultRetention{Mode: Governance, Years: ptr(3)}}},
		`<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>3</Years></DefaultRetention></Rule></ObjectLockConfiguration>`)
	checkGolden(t, LegalHold{Status: LegalHoldOff},
		`<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>OFF</Status></LegalHold>`)
}

func TestParseObjectLockHeaders(t *testing.T) {
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		h    http.Header
		out  ObjectLockHeaders
		want *s3err.Error
	}{
		{"none", hdr(), ObjectLockHeaders{}, nil},
		{"retention", hdr("x-amz-object-lock-mode", "GOVERNANCE", "x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05.000Z"),
			ObjectLockHeaders{Mode: Governance, RetainUntilDate: until}, nil},
		{"all", hdr("x-amz-object-lock-mode", "COMPLIANCE", "x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05Z",
			"x-amz-object-lock-legal-hold", "ON", "x-amz-bypass-governance-retention", "True"),
			ObjectLockHeaders{Mode: Compliance, RetainUntilDate: until, LegalHold: LegalHoldOn, BypassGovernance: true}, nil},
		{"legal hold off", hdr("x-amz-object-lock-legal-hold", "OFF"), ObjectLockHeaders{LegalHold: LegalHoldOff}, nil},
		{"bypass false", hdr("x-amz-bypass-governance-retention", "false"), ObjectLockHeaders{}, nil},
		{"mode without date", hdr("x-amz-object-lock-mode", "GOVERNANCE"), ObjectLockHeaders{}, s3err.ErrInvalidArgument},
		{"date without mode", hdr("x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05Z"), ObjectLockHeaders{}, s3err.ErrInvalidArgument},
		{"bad mode", hdr("x-amz-object-lock-mode", "FOREVER", "x-amz-object-lock-retain-until-date", "2030-01-02T03:04:05Z"), ObjectLockHeaders{}, s3err.ErrInvalidArgument},
		{"bad date", hdr("x-amz-object-lock-mode", "GOVERNANCE", "x-amz-object-lock-retain-until-date", "Wed, 02 Jan 2030 03:04:05 GMT"), ObjectLockHeaders{}, s3err.ErrInvalidArgument},
		{"bad legal hold", hdr("x-amz-object-lock-legal-hold", "yes"), ObjectLockHeaders{}, s3err.ErrInvalidArgument},
		{"bad bypass", hdr("x-amz-bypass-governance-retention", "yes"), ObjectLockHeaders{}, s3err.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseObjectLockHeaders(tc.h)
			checkErr(t, err, tc.want)
			if !got.RetainUntilDate.Equal(tc.out.RetainUntilDate) {
				t.Fatalf("RetainUntilDate = %v, want %v", got.RetainUntilDate, tc.out.RetainUntilDate)
			}
			got.RetainUntilDate, tc.out.RetainUntilDate = time.Time{}, time.Time{}
			if got != tc.out {
				t.Fatalf("got %+v, want %+v", got, tc.out)
			}
		})
	}
}

func TestObjectLockHeadersWrite(t *testing.T) {
	h := http.Header{}
	l := ObjectLockHeaders{Mode: Governance, RetainUntilDate: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), LegalHold: LegalHoldOn, BypassGovernance: true}
	l.WriteHeaders(h)
	want := http.Header{
		"X-Amz-Object-Lock-Mode":              {"GOVERNANCE"},
		"X-Amz-Object-Lock-Retain-Until-Date": {"2030-01-02T03:04:05.000Z"},
		"X-Amz-Object-Lock-Legal-Hold":        {"ON"},
	}
	if len(h) != len(want) {
		t.Fatalf("headers %v, want %v", h, want)
	}
	for k, v := range want {
		if h.Get(k) != v[0] {
			t.Fatalf("%s = %q, want %q", k, h.Get(k), v[0])
		}
	}
	back, err := ParseObjectLockHeaders(h)
	checkErr(t, err, nil)
	l.BypassGovernance = false
	if back.Mode != l.Mode || !back.RetainUntilDate.Equal(l.RetainUntilDate) || back.LegalHold != l.LegalHold || back.BypassGovernance {
		t.Fatalf("round trip %+v, want %+v", back, l)
	}
	empty := http.Header{}
	ObjectLockHeaders{}.WriteHeaders(empty)
	if len(empty) != 0 {
		t.Fatalf("zero value wrote %v", empty)
	}
}
