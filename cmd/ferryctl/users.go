package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Users and access keys of the site's S3 gateways:
//
//	user create NAME [--admin]   create a user (--admin: may manage the site)
//	user ls                      list users with their number of keys
//	user rm NAME                 delete a user that has no keys left
//	key create USER [--access-key K] [--secret-key S|-]
//	                             create an access key; the secret is shown
//	                             this once (generated unless given; "-"
//	                             reads it from the first line of stdin)
//	key ls [USER]                list access keys (never their secrets)
//	key rm ACCESS_KEY            delete an access key
//
// With --json, user create prints the user, key create prints
// {"key": {...}, "secretKey": "..."}, and the listings print {"users": [...]}
// and {"keys": [...]}.

const (
	userUsage = "user create NAME [--admin] | user ls | user rm NAME"
	keyUsage  = "key create USER [--access-key K] [--secret-key S|-] | key ls [USER] | key rm ACCESS_KEY"
)

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *cli) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usage(userUsage)
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "create":
		fs := flag.NewFlagSet("user create", flag.ContinueOnError)
		fs.SetOutput(c.stderr)
		admin := fs.Bool("admin", false, "the user may manage the site")
		pos, err := parseInterspersed(fs, rest)
		if err != nil || len(pos) != 1 {
			return usage("user create NAME [--admin]")
		}
		u, err := c.client.CreateUser(ctx, &nodepb.CreateUserRequest{User: pos[0], Admin: *admin, Principal: principal()})
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(u)
		}
		role := ""
		if u.GetAdmin() {
			role = " (administrator)"
		}
		fmt.Fprintf(c.stdout, "created user %s%s\n", u.GetUser(), role)
		return nil
	case "ls":
		if len(rest) != 0 {
			return usage("user ls")
		}
		return c.userLs(ctx)
	case "rm":
		if len(rest) != 1 {
			return usage("user rm NAME")
		}
		_, err := c.client.DeleteUser(ctx, &nodepb.DeleteUserRequest{User: rest[0], Principal: principal()})
		return c.done(err, "deleted user %s", rest[0])
	}
	return usage(userUsage)
}

func (c *cli) userLs(ctx context.Context) error {
	resp, err := c.client.ListUsers(ctx, &nodepb.ListUsersRequest{})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tADMIN\tKEYS\tCREATED\tBY")
	for _, u := range resp.GetUsers() {
		fmt.Fprintf(w, "%s\t%v\t%d\t%s\t%s\n", u.GetUser(), u.GetAdmin(), u.GetKeys(), when(u.GetCreatedUnixNanos()), orDash(u.GetCreatedBy()))
	}
	return w.Flush()
}

func when(unixNanos int64) string { return time.Unix(0, unixNanos).UTC().Format(time.RFC3339) }

func (c *cli) key(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usage(keyUsage)
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "create":
		return c.keyCreate(ctx, rest)
	case "ls":
		if len(rest) > 1 {
			return usage("key ls [USER]")
		}
		user := ""
		if len(rest) == 1 {
			user = rest[0]
		}
		return c.keyLs(ctx, user)
	case "rm":
		if len(rest) != 1 {
			return usage("key rm ACCESS_KEY")
		}
		_, err := c.client.DeleteKey(ctx, &nodepb.DeleteKeyRequest{AccessKey: rest[0], Principal: principal()})
		return c.done(err, "deleted access key %s", rest[0])
	}
	return usage(keyUsage)
}

func (c *cli) keyCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("key create", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	accessKey := fs.String("access-key", "", "access key id, 16 to 128 characters of [A-Za-z0-9_] (default: generated)")
	secret := fs.String("secret-key", "", `secret key, 8 to 128 printable characters; "-" reads the first line of standard input (default: generated)`)
	pos, err := parseInterspersed(fs, args)
	if err != nil || len(pos) != 1 {
		return usage("key create USER [--access-key K] [--secret-key S|-]")
	}
	if *secret == "-" {
		// Off the command line, a secret stays out of the shell history and
		// of other users' process listings.
		sc := bufio.NewScanner(c.stdin)
		if !sc.Scan() {
			return usage("--secret-key -: no line on standard input")
		}
		*secret = strings.TrimRight(sc.Text(), "\r")
	}
	resp, err := c.client.CreateKey(ctx, &nodepb.CreateKeyRequest{User: pos[0], AccessKey: *accessKey, SecretKey: *secret, Principal: principal()})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	k := resp.GetKey()
	fmt.Fprintf(c.stdout, "created an access key for user %s\n", k.GetUser())
	fmt.Fprintf(c.stdout, "  access key: %s\n", k.GetAccessKey())
	fmt.Fprintf(c.stdout, "  secret key: %s\n", resp.GetSecretKey())
	fmt.Fprintln(c.stdout, "The secret key is shown only now: store it safely.")
	return nil
}

func (c *cli) keyLs(ctx context.Context, user string) error {
	resp, err := c.client.ListKeys(ctx, &nodepb.ListKeysRequest{User: user})
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(resp)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCESS KEY\tUSER\tCREATED\tBY")
	for _, k := range resp.GetKeys() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.GetAccessKey(), k.GetUser(), when(k.GetCreatedUnixNanos()), orDash(k.GetCreatedBy()))
	}
	return w.Flush()
}
