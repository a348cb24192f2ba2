package sigv4

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

const goodSig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

func TestParseAuthorization(t *testing.T) {
	const cred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
	ok := []string{
		"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;range;x-amz-date, Signature=" + goodSig,
		"AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host;range;x-amz-date,Signature=" + goodSig,
		"AWS4-HMAC-SHA256  Credential = " + cred + " ,  SignedHeaders= host;range;x-amz-date ,Signature =" + goodSig + " ",
		"AWS4-HMAC-SHA256\tCredential=" + cred + ",\tSignedHeaders=host;range;x-amz-date,\tSignature=" + goodSig,
		"AWS4-HMAC-SHA256 Signature=" + goodSig + ", Credential=" + cred + ", SignedHeaders=host;range;x-amz-date",
		"AWS4-HMAC-SHA256 Credential=" + cred + " SignedHeaders=host;range;x-amz-date Signature=" + goodSig,
		"AWS4-HMAC-SHA256,Credential=" + cred + ",SignedHeaders=host;range;x-amz-date,Signature=" + goodSig + ",",
	}
	for _, h := range ok {
		a, err := parseAuthorization(h)
		if err != nil {
			t.Errorf("parseAuthorization(%q): %v", h, err)
			continue
		}
		if a.cred.accessKey != "AKIAIOSFODNN7EXAMPLE" || a.cred.date != "20130524" || a.cred.region != "us-east-1" ||
			a.cred.service != "s3" || a.signedRaw != "host;range;x-amz-date" || len(a.signedHeaders) != 3 || a.signature != goodSig {
			t.Errorf("parseAuthorization(%q) = %+v", h, a)
		}
	}

	a, err := parseAuthorization("AWS4-HMAC-SHA256 Credential=team/alice/20130524/r/s3/aws4_request, SignedHeaders=host, Signature=" + goodSig)
	if err != nil || a.cred.accessKey != "team/alice" {
		t.Errorf("access key with '/': %+v, %v", a, err)
	}

	bad := []struct {
		h    string
		want *s3err.Error
	}{
		{"", s3err.ErrAuthorizationHeaderMalformed},
		{"   ", s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256", s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256Credential=" + cred, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host", s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", Credential=" + cred + ", SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + goodSig + ", Extra=1", s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature", s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 credential=" + cred + ", SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AKID/20131324/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=AKID/20130524//s3/aws4_request, SignedHeaders=host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + strings.ToUpper(goodSig), s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + goodSig[:63], s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=range;x-amz-date, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=Host;range, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;host, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;;range, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=, Signature=" + goodSig, s3err.ErrAuthorizationHeaderMalformed},
		{"AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", s3err.ErrUnsupportedSignature},
		{"AWS4-ECDSA-P256-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + goodSig, s3err.ErrUnsupportedSignature},
		{"Bearer eyJhbGciOi", s3err.ErrUnsupportedSignature},
		{"Basic dXNlcjpwYXNz", s3err.ErrUnsupportedSignature},
	}
	for _, tc := range bad {
		_, err := parseAuthorization(tc.h)
		var se *s3err.Error
		if !errors.As(err, &se) || se.Code != tc.want.Code || se.Message == "" {
			t.Errorf("parseAuthorization(%q) = %v, want %s", tc.h, err, tc.want.Code)
		}
	}
	// Unsupported schemes use the shared message, which clients show.
	if _, err := parseAuthorization("AWS AK:sig"); err != s3err.ErrUnsupportedSignature {
		t.Errorf("SigV2: %v", err)
	}
}

func TestParseAuthorizationMessagesAreBounded(t *testing.T) {
	long := strings.Repeat("X", 1<<16)
	_, err := parseAuthorization("AWS4-HMAC-SHA256 " + long + "=1")
	if err == nil || len(s3err.As(err).Message) > 300 {
		t.Fatalf("message of %d bytes", len(s3err.As(err).Message))
	}
}
