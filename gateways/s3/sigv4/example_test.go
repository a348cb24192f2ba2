package sigv4_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/gateways/s3/sigv4"
)

func Example() {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	cfg := sigv4.DefaultConfig()
	cfg.Lookup = func(ak string) (string, string, error) {
		if ak != "AKIDEXAMPLE" {
			return "", "", s3err.ErrInvalidAccessKeyID
		}
		return "secret", "user:alice", nil
	}
	cfg.Now = func() time.Time { return now }
	v, err := sigv4.New(cfg)
	if err != nil {
		panic(err)
	}

	// A client signs a PUT (here with the AWS SDK's signer).
	r := httptest.NewRequest("PUT", "http://s3.example/bucket/hello.txt", strings.NewReader("hello"))
	r.Header.Set("X-Amz-Content-Sha256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
	r.Header.Set("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	_ = signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"},
		r, r.Header.Get("X-Amz-Content-Sha256"), "s3", "us-east-1", now)

	// The gateway verifies, then reads the object bytes from res.Body
	// through the checksum reader, committing only after io.EOF.
	res, err := v.Verify(r)
	if err != nil {
		fmt.Println("rejected:", s3err.As(err).Code)
		return
	}
	spec, err := sigv4.ParseChecksumHeaders(r.Header)
	if err != nil {
		fmt.Println("rejected:", s3err.As(err).Code)
		return
	}
	body := sigv4.NewChecksumReader(res.Body, spec)
	data, err := io.ReadAll(body)
	if err != nil {
		fmt.Println("discard:", s3err.As(err).Code)
		return
	}
	fmt.Println(res.Principal, string(data), hex.EncodeToString(body.MD5()))
	// Output: user:alice hello 5d41402abc4b2a76b9719d911017c592
}
