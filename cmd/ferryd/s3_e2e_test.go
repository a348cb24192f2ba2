package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestDevServesS3: `ferryd --dev` (what `make run` starts) serves S3 with
// the root credentials from the environment, and an AWS SDK client
// creates a bucket, writes and reads an object through it.
func TestDevServesS3(t *testing.T) {
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", bin+"/", "github.com/ferrydr/ferry/cmd/ferryd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const ak, sk = "FKE2EROOTACCESSKEY01", "e2e-root-secret-key-0123456789abcdefghij"
	cmd := exec.Command(filepath.Join(bin, "ferryd"), "--dev", t.TempDir(), "--api-addr", "127.0.0.1:0",
		"--raft-addr", "127.0.0.1:0", "--s3-addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "FERRY_ROOT_ACCESS_KEY="+ak, "FERRY_ROOT_SECRET_KEY="+sk)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ferryd exited with %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("ferryd did not stop on SIGINT\n%s", stderr.String())
		}
	})
	s3RE := regexp.MustCompile(`S3 on (http://\S+),`)
	lines := bufio.NewScanner(stdout)
	endpoint := ""
	for endpoint == "" && lines.Scan() {
		if m := s3RE.FindStringSubmatch(lines.Text()); m != nil {
			endpoint = m[1]
		}
	}
	if endpoint == "" {
		t.Fatalf("ferryd did not print its S3 address\n%s", stderr.String())
	}
	go func() {
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()

	c := awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The root user is created once the site is up; until then the key is
	// unknown. Wait for it instead of sleeping.
	for {
		_, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("e2e")})
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "InvalidAccessKeyId") || ctx.Err() != nil {
			t.Fatalf("create bucket: %v\n%s", err, stderr.String())
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // polling a real process
		}
	}
	body := bytes.Repeat([]byte("ferry "), 20000)
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("e2e"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("e2e"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	_ = out.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	bad := awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, "not-the-secret-at-all-0123456789", ""),
	})
	if _, err := bad.ListBuckets(ctx, &awss3.ListBucketsInput{}); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: %v", err)
	}
}
