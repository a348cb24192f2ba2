package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ferryd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCorruptConfigReportsEveryProblem(t *testing.T) {
	p := writeConfig(t, "node_id: n1\nbogus_field: 1\nheartbeat_timeout: [1]\n")
	_, err := loadConfigFile(p)
	if err == nil {
		t.Fatal("a config with an unknown field and a type error loaded")
	}
	for _, want := range []string{"bogus_field", "line 3", "time.Duration"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestInvalidConfigReportsEveryProblem(t *testing.T) {
	p := writeConfig(t, `
log_level: loud
pool: {data_shards: 0, parity_shards: 2}
disks:
  - {id: d0, dir: /x}
  - {id: d0, dir: /y}
`)
	fc, err := loadConfigFile(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fc.nodeConfig()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"node id is required", "data dir is required", "log_level", "profile 0+2", `disk id "d0" appears twice`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"--config", p}, &bytes.Buffer{}, &stderr); code != 2 {
		t.Fatalf("ferryd with an invalid config exited %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "invalid configuration") {
		t.Fatalf("stderr: %s", stderr.String())
	}
}

func TestDevDefaults(t *testing.T) {
	c, err := devConfig("/tmp/ferry-dev").nodeConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Disks) != 6 || c.DataShards != 4 || c.ParityShards != 2 || !c.Bootstrap || c.APIAddr != "127.0.0.1:7400" {
		t.Fatalf("dev config %+v", c)
	}
	if code := run([]string{"--dev", "/x", "--config", "/y"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Fatalf("--dev with --config exited %d, want 2", code)
	}
	if _, err := loadConfigFile(writeConfig(t, "")); err != nil {
		t.Fatalf("empty config file: %v", err)
	}
}
