package s3api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func lifecycleXML(rules ...string) string {
	return `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + strings.Join(rules, "") + `</LifecycleConfiguration>`
}

func TestParseLifecycleConfiguration(t *testing.T) {
	const exp = `<Expiration><Days>30</Days></Expiration>`
	rule := func(inner string) string { return "<Rule>" + inner + "</Rule>" }
	for _, tc := range []struct {
		name  string
		in    string
		want  *s3err.Error
		check func(*testing.T, LifecycleConfiguration)
	}{
		{name: "filter prefix", in: lifecycleXML(rule(`<ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>` + exp)),
			check: func(t *testing.T, c LifecycleConfiguration) {
				r := c.Rules[0]
				if r.ID != "logs" || r.Status != RuleEnabled || r.Filter == nil || r.Filter.Prefix == nil || *r.Filter.Prefix != "logs/" ||
					r.Expiration == nil || r.Expiration.Days == nil || *r.Expiration.Days != 30 || r.Prefix != nil {
					t.Fatalf("rule = %+v", r)
				}
			}},
		{name: "empty filter", in: lifecycleXML(rule(`<Filter></Filter><Status>Disabled</Status>` + exp))},
		{name: "self-closing filter", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status>` + exp))},
		{name: "legacy prefix", in: lifecycleXML(rule(`<Prefix>tmp/</Prefix><Status>Enabled</Status>` + exp)),
			check: func(t *testing.T, c LifecycleConfiguration) {
				if p := c.Rules[0].Prefix; p == nil || *p != "tmp/" {
					t.Fatalf("Prefix = %v", p)
				}
			}},
		{name: "legacy empty prefix", in: lifecycleXML(rule(`<Prefix></Prefix><Status>Enabled</Status>` + exp))},
		{name: "tag filter", in: lifecycleXML(rule(`<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status>` + exp))},
		{name: "and filter", in: lifecycleXML(rule(`<Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>20</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>` + exp)),
			check: func(t *testing.T, c LifecycleConfiguration) {
				a := c.Rules[0].Filter.And
				if a == nil || *a.Prefix != "p/" || len(a.Tags) != 2 || *a.ObjectSizeGreaterThan != 10 || *a.ObjectSizeLessThan != 20 {
					t.Fatalf("And = %+v", a)
				}
			}},
		{name: "size filter", in: lifecycleXML(rule(`<Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>` + exp))},
		{name: "date", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>`)),
			check: func(t *testing.T, c LifecycleConfiguration) {
				if d := c.Rules[0].Expiration.Date; d == nil || !d.Time().Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Fatalf("Date = %v", d)
				}
			}},
		{name: "date with millis", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>`))},
		{name: "delete marker", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`))},
		{name: "noncurrent", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>`))},
		{name: "abort multipart", in: lifecycleXML(rule(`<Filter><Prefix></Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>`))},
		{name: "all actions", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status>` + exp + `<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`))},
		{name: "rules without ids", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status>`+exp), rule(`<Filter/><Status>Enabled</Status>`+exp))},

		{name: "no rules", in: lifecycleXML(), want: s3err.ErrMalformedXML},
		{name: "duplicate ids", in: lifecycleXML(rule(`<ID>x</ID><Filter/><Status>Enabled</Status>`+exp), rule(`<ID>x</ID><Filter/><Status>Enabled</Status>`+exp)), want: s3err.ErrInvalidArgument},
		{name: "long id", in: lifecycleXML(rule(`<ID>` + strings.Repeat("i", 256) + `</ID><Filter/><Status>Enabled</Status>` + exp)), want: s3err.ErrInvalidArgument},
		{name: "bad status", in: lifecycleXML(rule(`<Filter/><Status>enabled</Status>` + exp)), want: s3err.ErrMalformedXML},
		{name: "no status", in: lifecycleXML(rule(`<Filter/>` + exp)), want: s3err.ErrMalformedXML},
		{name: "filter and prefix", in: lifecycleXML(rule(`<Filter/><Prefix>a</Prefix><Status>Enabled</Status>` + exp)), want: s3err.ErrMalformedXML},
		{name: "neither filter nor prefix", in: lifecycleXML(rule(`<Status>Enabled</Status>` + exp)), want: s3err.ErrMalformedXML},
		{name: "filter with two predicates", in: lifecycleXML(rule(`<Filter><Prefix>a</Prefix><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrMalformedXML},
		{name: "empty and", in: lifecycleXML(rule(`<Filter><And></And></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrMalformedXML},
		{name: "and duplicate tags", in: lifecycleXML(rule(`<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrInvalidRequest},
		{name: "and sizes inverted", in: lifecycleXML(rule(`<Filter><And><ObjectSizeGreaterThan>20</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrInvalidArgument},
		{name: "negative size", in: lifecycleXML(rule(`<Filter><ObjectSizeLessThan>-1</ObjectSizeLessThan></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrInvalidArgument},
		{name: "bad tag", in: lifecycleXML(rule(`<Filter><Tag><Key>aws:x</Key><Value>1</Value></Tag></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrInvalidTag},
		{name: "long prefix", in: lifecycleXML(rule(`<Filter><Prefix>` + strings.Repeat("p", 1025) + `</Prefix></Filter><Status>Enabled</Status>` + exp)), want: s3err.ErrInvalidArgument},
		{name: "no action", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status>`)), want: s3err.ErrInvalidRequest},
		{name: "transition", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`)), want: s3err.ErrNotImplemented},
		{name: "noncurrent transition", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status>` + exp + `<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>`)), want: s3err.ErrNotImplemented},
		{name: "expiration empty", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration></Expiration>`)), want: s3err.ErrMalformedXML},
		{name: "days and marker", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), want: s3err.ErrMalformedXML},
		{name: "days and date", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`)), want: s3err.ErrMalformedXML},
		{name: "zero days", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>`)), want: s3err.ErrInvalidArgument},
		{name: "days not a number", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Days>x</Days></Expiration>`)), want: s3err.ErrMalformedXML},
		{name: "date not midnight", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>`)), want: s3err.ErrInvalidArgument},
		{name: "date midnight elsewhere", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00+02:00</Date></Expiration>`)), want: s3err.ErrInvalidArgument},
		{name: "date unparseable", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01</Date></Expiration>`)), want: s3err.ErrMalformedXML},
		{name: "marker with tags", in: lifecycleXML(rule(`<Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>`)), want: s3err.ErrInvalidRequest},
		{name: "abort with tags", in: lifecycleXML(rule(`<Filter><And><Prefix>a</Prefix><Tag><Key>a</Key><Value>b</Value></Tag></And></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`)), want: s3err.ErrInvalidRequest},
		{name: "noncurrent zero", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>`)), want: s3err.ErrInvalidArgument},
		{name: "noncurrent missing days", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)), want: s3err.ErrMalformedXML},
		{name: "newer versions too many", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>`)), want: s3err.ErrInvalidArgument},
		{name: "abort zero", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>`)), want: s3err.ErrInvalidArgument},
		{name: "abort missing days", in: lifecycleXML(rule(`<Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload></AbortIncompleteMultipartUpload>`)), want: s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseLifecycleConfiguration(body(tc.in))
			checkErr(t, err, tc.want)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestLifecycleRuleCount(t *testing.T) {
	rules := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `<Rule><ID>r%d</ID><Filter><Prefix>p%d/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>%d</Days></Expiration></Rule>`, i, i, i+1)
		}
		return lifecycleXML(b.String())
	}
	in := rules(MaxLifecycleRules)
	if len(in) > MaxConfigBodySize {
		t.Fatalf("1000 rules take %d bytes, more than the body limit", len(in))
	}
	c, err := ParseLifecycleConfiguration(body(in))
	checkErr(t, err, nil)
	if len(c.Rules) != MaxLifecycleRules {
		t.Fatalf("%d rules", len(c.Rules))
	}
	_, err = ParseLifecycleConfiguration(body(rules(MaxLifecycleRules + 1)))
	checkErr(t, err, s3err.ErrInvalidArgument)
}

func TestLifecycleRoundTrip(t *testing.T) {
	date := Timestamp(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	c := LifecycleConfiguration{Rules: []LifecycleRule{
		{ID: "a", Filter: &LifecycleFilter{Prefix: ptr("logs/")}, Status: RuleEnabled, Expiration: &LifecycleExpiration{Days: ptr(30)}},
		{ID: "b", Prefix: ptr(""), Status: RuleDisabled, Expiration: &LifecycleExpiration{Date: &date}},
		{ID: "c", Filter: &LifecycleFilter{And: &LifecycleAnd{Prefix: ptr("x"), Tags: []Tag{{"k", "v"}}}}, Status: RuleEnabled,
			NoncurrentVersionExpiration: &NoncurrentVersionExpiration{NoncurrentDays: ptr(5), NewerNoncurrentVersions: ptr(2)}},
		{ID: "d", Filter: &LifecycleFilter{}, Status: RuleEnabled,
			Expiration:                     &LifecycleExpiration{ExpiredObjectDeleteMarker: ptr(true)},
			AbortIncompleteMultipartUpload: &AbortIncompleteMultipartUpload{DaysAfterInitiation: ptr(3)}},
	}}
	b, err := Marshal(c)
	checkErr(t, err, nil)
	want := `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>` +
		`<Rule><ID>b</ID><Prefix></Prefix><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>` +
		`<Rule><ID>c</ID><Filter><And><Prefix>x</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>5</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>` +
		`<Rule><ID>d</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>` +
		`</LifecycleConfiguration>`
	checkGolden(t, c, want)
	back, err := ParseLifecycleConfiguration(strings.NewReader(string(b)))
	checkErr(t, err, nil)
	b2, err := Marshal(back)
	checkErr(t, err, nil)
	if string(b) != string(b2) {
		t.Fatalf("round trip changed the document:\n%s\n%s", b, b2)
	}
}
