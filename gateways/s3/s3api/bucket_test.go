package s3api

import (
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestValidBucketName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket.example.com", true},
		{"0123456789", true},
		{"a1-b2.c3", true},
		{strings.Repeat("a", 63), true},
		{"192.168.5.4x", true},
		{"1.2.3", true},
		{"xn-a", true},
		{"mys3alias", true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"My-Bucket", false},
		{"my_bucket", false},
		{"my bucket", false},
		{"-bucket", false},
		{"bucket-", false},
		{".bucket", false},
		{"bucket.", false},
		{"my..bucket", false},
		{"my.-bucket", false},
		{"my-.bucket", false},
		{"192.168.5.4", false},
		{"10.0.0.1", false},
		{"xn--bucket", false},
		{"sthree-bucket", false},
		{"amzn-s3-demo-bucket", false},
		{"bucket-s3alias", false},
		{"bucket--ol-s3", false},
		{"bucket.mrap", false},
		{"bucket--x-s3", false},
		{"bucket--table-s3", false},
		{"bücket", false},
	} {
		err := ValidBucketName(tc.name)
		if tc.ok {
			checkErr(t, err, nil)
		} else {
			checkErr(t, err, s3err.ErrInvalidBucketName)
		}
	}
}

func TestParseCreateBucketConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name, in, region string
		want             *s3err.Error
	}{
		{"empty body", "", "", nil},
		{"blank body", "\n ", "", nil},
		{"region", `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`, "eu-west-1", nil},
		{"empty element", `<CreateBucketConfiguration/>`, "", nil},
		{"legacy EU", `<CreateBucketConfiguration><LocationConstraint>EU</LocationConstraint></CreateBucketConfiguration>`, "EU", nil},
		{"directory bucket elements ignored", `<CreateBucketConfiguration><LocationConstraint>us-west-2</LocationConstraint><Bucket><Type>Directory</Type></Bucket></CreateBucketConfiguration>`, "us-west-2", nil},
		{"bad region", `<CreateBucketConfiguration><LocationConstraint>EU West</LocationConstraint></CreateBucketConfiguration>`, "", s3err.ErrInvalidArgument},
		{"long region", `<CreateBucketConfiguration><LocationConstraint>` + strings.Repeat("a", 65) + `</LocationConstraint></CreateBucketConfiguration>`, "", s3err.ErrInvalidArgument},
		{"malformed", `<CreateBucketConfiguration>`, "", s3err.ErrMalformedXML},
		{"wrong root", `<VersioningConfiguration/>`, "", s3err.ErrMalformedXML},
		{"too big", strings.Repeat(" ", MaxConfigBodySize+1), "", s3err.ErrMaxMessageLengthExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCreateBucketConfiguration(body(tc.in))
			checkErr(t, err, tc.want)
			if c.LocationConstraint != tc.region {
				t.Fatalf("LocationConstraint = %q, want %q", c.LocationConstraint, tc.region)
			}
		})
	}
}

func TestParseVersioningConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		status   VersioningStatus
		want     *s3err.Error
	}{
		{"enabled", `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`, VersioningEnabled, nil},
		{"suspended", `<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`, VersioningSuspended, nil},
		{"mfa disabled", `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`, VersioningEnabled, nil},
		{"mfa enabled", `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`, "", s3err.ErrNotImplemented},
		{"mfa bogus", `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Maybe</MfaDelete></VersioningConfiguration>`, "", s3err.ErrMalformedXML},
		{"no status", `<VersioningConfiguration/>`, "", s3err.ErrMalformedXML},
		{"disabled", `<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>`, "", s3err.ErrMalformedXML},
		{"lowercase", `<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>`, "", s3err.ErrMalformedXML},
		{"empty", ``, "", s3err.ErrMalformedXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseVersioningConfiguration(body(tc.in))
			checkErr(t, err, tc.want)
			if c.Status != tc.status {
				t.Fatalf("Status = %q, want %q", c.Status, tc.status)
			}
		})
	}
}

// The XML literals below are the response samples of the S3 API reference,
// with ferry's namespace and declaration.
func TestBucketResponsesGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Response
		want string
	}{
		{"location us-east-1", LocationConstraint{}, `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`},
		{"location", LocationConstraint{Region: "eu-west-1"}, `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>`},
		{"versioning never enabled", VersioningConfiguration{}, `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></VersioningConfiguration>`},
		{"versioning", VersioningConfiguration{Status: VersioningSuspended}, `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status></VersioningConfiguration>`},
		{"no buckets", ListAllMyBucketsResult{Owner: &Owner{ID: "o1"}}, `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>o1</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>`},
		{"buckets", ListAllMyBucketsResult{
			Owner: &Owner{ID: "bcaf1ffd86f461ca5fb16fd081034f", DisplayName: "webfile"},
			Buckets: []BucketInfo{
				{Name: "quotes", CreationDate: Timestamp(time.Date(2006, 2, 3, 16, 45, 9, 0, time.UTC))},
				{Name: "samples", CreationDate: Timestamp(time.Date(2006, 2, 3, 16, 41, 58, 0, time.UTC)), BucketRegion: "eu-west-1"},
			},
		}, `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName></Owner><Buckets><Bucket><Name>quotes</Name><CreationDate>2006-02-03T16:45:09.000Z</CreationDate></Bucket><Bucket><Name>samples</Name><CreationDate>2006-02-03T16:41:58.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>`},
	} {
		t.Run(tc.name, func(t *testing.T) { checkGolden(t, tc.v, tc.want) })
	}
}

func checkGolden(t *testing.T, v Response, want string) {
	t.Helper()
	b, err := Marshal(v)
	checkErr(t, err, nil)
	got, ok := strings.CutPrefix(string(b), `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	if !ok {
		t.Fatalf("no XML declaration: %s", b)
	}
	if got != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", got, want)
	}
}
