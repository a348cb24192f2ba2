package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/raftstore"
)

func TestRootCredentialsFromEnvironment(t *testing.T) {
	env := map[string]string{envRootAccessKey: " AKIAENVIRONMENT00001 ", envRootSecretKey: "env-secret-value\n"}
	cfg := raftstore.DefaultConfig()
	rootFromEnv(func(k string) string { return env[k] }, &cfg)
	if cfg.RootAccessKey != "AKIAENVIRONMENT00001" || string(cfg.RootSecretKey) != "env-secret-value" {
		t.Fatalf("root credentials from the environment: %q", cfg.RootAccessKey)
	}
	cfg = raftstore.DefaultConfig()
	rootFromEnv(func(string) string { return "" }, &cfg)
	if cfg.RootAccessKey != "" || cfg.RootSecretKey != "" {
		t.Fatal("credentials without an environment")
	}
}

// TestRootInvalidEnvironmentIsReportedWithoutTheSecret: ferryd refuses to
// start with bad root credentials and says why without printing them.
func TestRootInvalidEnvironmentIsReportedWithoutTheSecret(t *testing.T) {
	for name, env := range map[string][2]string{
		"short secret":       {"AKIAENVIRONMENT00001", "hunter2"},
		"secret with spaces": {"AKIAENVIRONMENT00001", "hunter2 hunter2 hunter2"},
		"bad access key":     {"hunter2/hunter2/hunter2", "hunter2-hunter2"},
		"secret alone":       {"", "hunter2-hunter2"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(envRootAccessKey, env[0])
			t.Setenv(envRootSecretKey, env[1])
			var stdout, stderr bytes.Buffer
			if code := run([]string{"--dev", filepath.Join(t.TempDir(), "dev")}, &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "root") || strings.Contains(stderr.String(), "hunter2") {
				t.Fatalf("stderr:\n%s", stderr.String())
			}
		})
	}
}

// oneWrite counts the writes it gets.
type oneWrite struct {
	bytes.Buffer
	writes int
}

func (w *oneWrite) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func TestPrintRootCredentials(t *testing.T) {
	var w oneWrite
	printRootCredentials(&w, raftstore.RootCredentials{AccessKey: "FKROOT00000000000001", SecretKey: "the-secret-value", File: "/var/lib/ferry/root-credentials"})
	out := w.String()
	for _, want := range []string{"access key:  FKROOT00000000000001\n", "secret key:  the-secret-value\n", "/var/lib/ferry/root-credentials", "only this once", envRootAccessKey} {
		if strings.Count(out, want) != 1 {
			t.Errorf("the block holds %q %d times:\n%s", want, strings.Count(out, want), out)
		}
	}
	if w.writes != 1 {
		t.Fatalf("the block took %d writes, want one", w.writes)
	}
}
