package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ferrydr/ferry/raftstore"
)

// Environment variables that set the root user's credentials on a new
// site. When they are not set, the node that bootstraps the site generates
// the credentials, prints them once (printRootCredentials) and keeps them
// in DATA_DIR/root-credentials.
const (
	envRootAccessKey = "FERRY_ROOT_ACCESS_KEY"
	envRootSecretKey = "FERRY_ROOT_SECRET_KEY"
)

// rootFromEnv sets cfg's root credentials from the environment; cfg's
// Validate checks them (and never prints the secret).
func rootFromEnv(getenv func(string) string, cfg *raftstore.Config) {
	cfg.RootAccessKey = strings.TrimSpace(getenv(envRootAccessKey))
	cfg.RootSecretKey = raftstore.Secret(strings.TrimSpace(getenv(envRootSecretKey)))
}

// printRootCredentials writes the block that shows generated root
// credentials, in one write so that log lines do not cut into it: the one
// time a secret is printed.
func printRootCredentials(w io.Writer, c raftstore.RootCredentials) {
	var b strings.Builder
	rule := strings.Repeat("=", 72)
	fmt.Fprintf(&b, "\n%s\n", rule)
	fmt.Fprintln(&b, "ferryd: generated the credentials of this site's root user (an administrator)")
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "    access key:  %s\n", c.AccessKey)
	fmt.Fprintf(&b, "    secret key:  %s\n", string(c.SecretKey))
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "They are shown only this once. They are kept, readable by this user only, in")
	fmt.Fprintf(&b, "    %s\n", c.File)
	fmt.Fprintln(&b, "(an AWS shared credentials file). Store them safely, then create users and")
	fmt.Fprintln(&b, "keys for applications with `ferryctl user create` and `ferryctl key create`.")
	fmt.Fprintf(&b, "To choose them instead, set %s and %s before the first start.\n", envRootAccessKey, envRootSecretKey)
	fmt.Fprintf(&b, "%s\n\n", rule)
	_, _ = w.Write([]byte(b.String()))
}
