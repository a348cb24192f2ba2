package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/internal/s3load"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseFlags(t *testing.T) {
	cfg, opt, err := parseFlags([]string{
		"-endpoint", "https://s3.example.com", "-op", "get", "-size", "64KiB", "-concurrency", "32",
		"-duration", "3s", "-objects", "50", "-verify", "-seed", "9", "-checksum", "when_required",
		"-multipart-part-size", "8MiB", "-multipart-threshold", "1GiB", "-ec", "8+3", "-json", "-ops", "7",
	}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := s3load.DefaultConfig()
	want.Endpoint, want.Op, want.ObjectSize, want.Concurrency = "https://s3.example.com", s3load.OpGet, 64*s3load.KiB, 32
	want.Duration, want.Objects, want.Verify, want.Seed = 3*time.Second, 50, true, 9
	want.Checksum, want.MultipartPartSize, want.MultipartThreshold = s3load.ChecksumWhenRequired, 8*s3load.MiB, s3load.GiB
	want.ECData, want.ECParity, want.MaxOps = 8, 3, 7
	if cfg != want || !opt.json {
		t.Errorf("config\n%+v\nwant\n%+v (json %v)", cfg, want, opt.json)
	}
}

func TestParseFlagsCredentials(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		wantAK, sk string
	}{
		{"aws env", nil, map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "as",
			"FERRY_ROOT_ACCESS_KEY": "f", "FERRY_ROOT_SECRET_KEY": "fs"}, "a", "as"},
		{"ferry env", nil, map[string]string{"FERRY_ROOT_ACCESS_KEY": "f", "FERRY_ROOT_SECRET_KEY": "fs"}, "f", "fs"},
		{"flags win", []string{"-access-key", "x", "-secret-key", "xs"},
			map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "as"}, "x", "xs"},
		{"none", nil, nil, "", ""},
	} {
		cfg, _, err := parseFlags(tc.args, env(tc.env), io.Discard)
		if err != nil || cfg.AccessKey != tc.wantAK || cfg.SecretKey != tc.sk {
			t.Errorf("%s: keys %q/%q, %v; want %q/%q", tc.name, cfg.AccessKey, cfg.SecretKey, err, tc.wantAK, tc.sk)
		}
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-size", "4XiB"}, {"-ec", "4"}, {"-ec", "0+2"}, {"-ec", "4+-1"}, {"-nope"}, {"extra"},
	} {
		if _, _, err := parseFlags(args, env(nil), io.Discard); err == nil {
			t.Errorf("%q parsed", args)
		}
	}
}

func TestRunReportsEveryConfigProblem(t *testing.T) {
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"-op", "delete", "-concurrency", "-1"}, env(nil), io.Discard, &stderr)
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"access key", "op", "concurrency"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestRunPutJSON runs the command against a server that accepts
// everything, and reads its JSON result.
func TestRunPutJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-endpoint", srv.URL, "-op", "put", "-size", "4KiB", "-ops", "5",
		"-concurrency", "2", "-json", "-quiet"}, env(map[string]string{"FERRY_ROOT_ACCESS_KEY": "f", "FERRY_ROOT_SECRET_KEY": "fs"}),
		&stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res s3load.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v:\n%s", err, stdout.String())
	}
	if len(res.Phases) != 1 || res.Phases[0].Ops != 5 || res.Phases[0].Bytes != 5*4096 || res.ObjectSize != 4*s3load.KiB {
		t.Errorf("result %+v", res)
	}
}
