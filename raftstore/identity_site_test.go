package raftstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
	"github.com/ferrydr/ferry/raftstore/raftstoretest"
)

func randomName(rng *rand.Rand, prefix string, n int, alphabet string) string {
	b := []byte(prefix)
	for range n {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return string(b)
}

// waitLookup waits until every running node's LookupKey of ak gives
// wantSecret and wantUser, or ErrNotFound when wantSecret is empty.
func waitLookup(t *testing.T, c *raftstoretest.Cluster, ak, wantSecret, wantUser string) {
	t.Helper()
	what := fmt.Sprintf("access key %s known to every node", ak)
	if wantSecret == "" {
		what = fmt.Sprintf("access key %s gone from every node", ak)
	}
	c.Eventually(30*time.Second, what, func() (bool, error) {
		for _, n := range c.Nodes {
			if n == nil {
				continue
			}
			secret, user, err := n.LookupKey(t.Context(), ak)
			if wantSecret == "" {
				if !errors.Is(err, raftstore.ErrNotFound) {
					return false, fmt.Errorf("node %s: user %q, %v", n.ID(), user, err)
				}
				continue
			}
			if err != nil {
				return false, fmt.Errorf("node %s: %v", n.ID(), err)
			}
			if secret != wantSecret || user != wantUser {
				t.Fatalf("node %s: access key %s gives user %q and another secret, want user %q", n.ID(), ak, user, wantUser)
			}
		}
		return true, nil
	})
}

// noSecretIn fails if the protojson form of any message holds secret.
func noSecretIn(t *testing.T, secret string, msgs ...proto.Message) {
	t.Helper()
	for _, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("a %T response holds a secret", m)
		}
	}
}

// TestIdentityUsersAndKeysOnEveryNode: a user and its keys created through
// any node are found by LookupKey on every node, listed without secrets,
// and disappear everywhere when deleted.
func TestIdentityUsersAndKeysOnEveryNode(t *testing.T) {
	rng := seed(t)
	c := raftstoretest.New(t, raftstoretest.Options{})
	ctx := ctxT(t, 2*time.Minute)
	waitRootDone(t, c, c.Nodes[0])
	user := randomName(rng, "user.", 8, "abcdefghijklmnopqrstuvwxyz0123456789")
	info, err := c.Nodes[1].CreateUser(ctx, user, false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if info.GetUser() != user || info.GetAdmin() || info.GetKeys() != 0 || info.GetCreatedBy() != "test" || info.GetCreatedUnixNanos() == 0 {
		t.Fatalf("created user %v", info)
	}
	if _, err := c.Nodes[2].CreateUser(ctx, user, true, "test"); !errors.Is(err, raftstore.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	if _, err := c.Nodes[0].CreateUser(ctx, raftstore.RootUser, true, "test"); !errors.Is(err, raftstore.ErrInvalidArgument) {
		t.Fatalf("create root: %v, want ErrInvalidArgument", err)
	}

	// A generated key through a follower, a given one through another node.
	gen, err := c.Nodes[2].CreateKey(ctx, user, "", "", "test")
	if err != nil {
		t.Fatal(err)
	}
	genAK, genSecret := gen.GetKey().GetAccessKey(), gen.GetSecretKey()
	if len(genAK) != 20 || !strings.HasPrefix(genAK, raftstore.GeneratedAccessKeyPrefix) || len(genSecret) != 40 || gen.GetKey().GetUser() != user || gen.GetKey().GetCreatedUnixNanos() == 0 {
		t.Fatalf("generated key %v (secret of %d characters)", gen.GetKey(), len(genSecret))
	}
	givenAK := randomName(rng, "AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	givenSecret := randomName(rng, "", 40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+")
	given, err := c.Nodes[0].CreateKey(ctx, user, givenAK, givenSecret, "test")
	if err != nil || given.GetSecretKey() != givenSecret || given.GetKey().GetAccessKey() != givenAK {
		t.Fatalf("create a given key: %v, %v", given.GetKey(), err)
	}
	if _, err := c.Nodes[1].CreateKey(ctx, user, givenAK, "another-secret", "test"); !errors.Is(err, raftstore.ErrExists) {
		t.Fatalf("duplicate access key: %v, want ErrExists", err)
	}
	if _, err := c.Nodes[1].CreateKey(ctx, "nobody", "", "", "test"); !errors.Is(err, raftstore.ErrNotFound) {
		t.Fatalf("key for a missing user: %v, want ErrNotFound", err)
	}
	waitLookup(t, c, genAK, genSecret, user)
	waitLookup(t, c, givenAK, givenSecret, user)
	if _, _, err := c.Nodes[1].LookupKey(ctx, "FKNOSUCHKEY000000000"); !errors.Is(err, raftstore.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, _, err := c.Nodes[1].LookupKey(ctx, "not/an id"); !errors.Is(err, raftstore.ErrNotFound) {
		t.Fatalf("malformed key: %v", err)
	}

	// Listings, from any node, never hold a secret.
	for i, n := range c.Nodes {
		keys, err := n.ListKeys(ctx, user)
		if err != nil || len(keys) != 2 {
			t.Fatalf("node %d: keys of %s: %v, %v", i, user, keys, err)
		}
		all, err := n.ListKeys(ctx, "")
		if err != nil || len(all) != 3 { // and root's
			t.Fatalf("node %d: all keys: %v, %v", i, all, err)
		}
		users, err := n.ListUsers(ctx)
		if err != nil || len(users) != 2 || users[0].GetUser() != raftstore.RootUser || users[1].GetUser() != user || users[1].GetKeys() != 2 {
			t.Fatalf("node %d: users %v, %v", i, users, err)
		}
		st, err := n.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{genSecret, givenSecret} {
			noSecretIn(t, s, &nodepb.ListKeysResponse{Keys: keys}, &nodepb.ListKeysResponse{Keys: all}, &nodepb.ListUsersResponse{Users: users}, st)
		}
	}
	if _, err := c.Nodes[0].ListKeys(ctx, "nobody"); !errors.Is(err, raftstore.ErrNotFound) {
		t.Fatalf("keys of a missing user: %v", err)
	}

	if err := c.Nodes[0].DeleteUser(ctx, user, "test"); !errors.Is(err, raftstore.ErrPrecondition) {
		t.Fatalf("delete a user with keys: %v, want ErrPrecondition", err)
	}
	if err := c.Nodes[1].DeleteUser(ctx, raftstore.RootUser, "test"); !errors.Is(err, raftstore.ErrInvalidArgument) {
		t.Fatalf("delete root: %v, want ErrInvalidArgument", err)
	}
	if err := c.Nodes[2].DeleteKey(ctx, genAK, "test"); err != nil {
		t.Fatal(err)
	}
	waitLookup(t, c, genAK, "", "")
	waitLookup(t, c, givenAK, givenSecret, user)
	if err := c.Nodes[0].DeleteKey(ctx, genAK, "test"); !errors.Is(err, raftstore.ErrNotFound) {
		t.Fatalf("second delete of a key: %v, want ErrNotFound", err)
	}
	if err := c.Nodes[1].DeleteKey(ctx, givenAK, "test"); err != nil {
		t.Fatal(err)
	}
	waitLookup(t, c, givenAK, "", "")
	if err := c.Nodes[2].DeleteUser(ctx, user, "test"); err != nil {
		t.Fatal(err)
	}
	users, err := c.Nodes[1].ListUsers(ctx)
	if err != nil || len(users) != 1 || users[0].GetUser() != raftstore.RootUser {
		t.Fatalf("users after the delete: %v, %v", users, err)
	}
	assertSameState(t, c)
}

// TestIdentityNodeAPI: the gRPC surface maps every identity error to its
// code and back, and only CreateKey returns a secret.
func TestIdentityNodeAPI(t *testing.T) {
	c := raftstoretest.New(t, raftstoretest.Options{Nodes: 1, DisksPerNode: 6})
	conn, err := raftstore.Dial(c.Nodes[0].APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := nodepb.NewNodeClient(conn)
	ctx := ctxT(t, time.Minute)
	waitRootDone(t, c, c.Nodes[0])
	if _, err := cl.CreateUser(ctx, &nodepb.CreateUserRequest{User: "alice", Admin: true, Principal: "test"}); err != nil {
		t.Fatal(err)
	}
	const secret = "Sup3r-Secret-Value-For-Alice"
	created, err := cl.CreateKey(ctx, &nodepb.CreateKeyRequest{User: "alice", AccessKey: "FKALICE0000000000001", SecretKey: secret, Principal: "test"})
	if err != nil || created.GetSecretKey() != secret || created.GetKey().GetUser() != "alice" || created.GetKey().GetCreatedBy() != "test" {
		t.Fatalf("create key: %v, %v", created.GetKey(), err)
	}
	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		class error
	}{
		{"duplicate user", func() error {
			_, err := cl.CreateUser(ctx, &nodepb.CreateUserRequest{User: "alice"})
			return err
		}, codes.AlreadyExists, raftstore.ErrExists},
		{"bad user name", func() error {
			_, err := cl.CreateUser(ctx, &nodepb.CreateUserRequest{User: "al ice"})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"reserved root", func() error {
			_, err := cl.CreateUser(ctx, &nodepb.CreateUserRequest{User: "root", Admin: true})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"key for a missing user", func() error {
			_, err := cl.CreateKey(ctx, &nodepb.CreateKeyRequest{User: "bob"})
			return err
		}, codes.NotFound, raftstore.ErrNotFound},
		{"duplicate key", func() error {
			_, err := cl.CreateKey(ctx, &nodepb.CreateKeyRequest{User: "alice", AccessKey: "FKALICE0000000000001", SecretKey: "other-secret"})
			return err
		}, codes.AlreadyExists, raftstore.ErrExists},
		{"bad secret", func() error {
			_, err := cl.CreateKey(ctx, &nodepb.CreateKeyRequest{User: "alice", SecretKey: "tiny"})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"delete a user with keys", func() error {
			_, err := cl.DeleteUser(ctx, &nodepb.DeleteUserRequest{User: "alice"})
			return err
		}, codes.FailedPrecondition, raftstore.ErrPrecondition},
		{"delete root", func() error {
			_, err := cl.DeleteUser(ctx, &nodepb.DeleteUserRequest{User: "root"})
			return err
		}, codes.InvalidArgument, raftstore.ErrInvalidArgument},
		{"delete a missing key", func() error {
			_, err := cl.DeleteKey(ctx, &nodepb.DeleteKeyRequest{AccessKey: "FKNOSUCHKEY000000000"})
			return err
		}, codes.NotFound, raftstore.ErrNotFound},
		{"keys of a missing user", func() error {
			_, err := cl.ListKeys(ctx, &nodepb.ListKeysRequest{User: "bob"})
			return err
		}, codes.NotFound, raftstore.ErrNotFound},
	}
	for _, tc := range cases {
		err := tc.call()
		if status.Code(err) != tc.code {
			t.Errorf("%s: code %v (%v), want %v", tc.name, status.Code(err), err, tc.code)
			continue
		}
		if !errors.Is(raftstore.FromStatus(err), tc.class) {
			t.Errorf("%s: %v does not map back to %v", tc.name, err, tc.class)
		}
		if strings.Contains(err.Error(), "Secret-Value") || strings.Contains(err.Error(), "other-secret") || strings.Contains(err.Error(), "tiny") {
			t.Errorf("%s: the error holds a secret: %v", tc.name, err)
		}
	}
	keys, err := cl.ListKeys(ctx, &nodepb.ListKeysRequest{})
	if err != nil || len(keys.GetKeys()) != 2 {
		t.Fatalf("list keys: %v, %v", keys, err)
	}
	users, err := cl.ListUsers(ctx, &nodepb.ListUsersRequest{})
	if err != nil || len(users.GetUsers()) != 2 {
		t.Fatalf("list users: %v, %v", users, err)
	}
	noSecretIn(t, secret, keys, users)
	if _, err := cl.DeleteKey(ctx, &nodepb.DeleteKeyRequest{AccessKey: "FKALICE0000000000001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.DeleteUser(ctx, &nodepb.DeleteUserRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// announcements records what OnRootCredentials received.
type announcements struct {
	mu  sync.Mutex
	got []raftstore.RootCredentials
}

func (a *announcements) add(c raftstore.RootCredentials) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, c)
}

func (a *announcements) list() []raftstore.RootCredentials {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]raftstore.RootCredentials(nil), a.got...)
}

// readCredentialsFile parses the root-credentials file the way the AWS
// tools read a shared credentials file.
func readCredentialsFile(t *testing.T, path string) (ak, secret string, mode os.FileMode, raw []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			ak = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return ak, secret, fi.Mode().Perm(), raw
}

func waitRootDone(t *testing.T, c *raftstoretest.Cluster, n *raftstore.Node) {
	t.Helper()
	c.Eventually(60*time.Second, "root user bootstrap finished on "+n.ID(), func() (bool, error) {
		return n.RootBootstrapDoneForTest(), nil
	})
}

// TestRootCredentialsGeneratedOnce: the bootstrapping node generates the
// root credentials once, keeps them in a private file, announces them once,
// and neither a restart nor a leader change creates or announces others.
func TestRootCredentialsGeneratedOnce(t *testing.T) {
	var ann announcements
	c := raftstoretest.New(t, raftstoretest.Options{Tune: func(i int, cfg *raftstore.Config) {
		cfg.OnRootCredentials = ann.add // on every node: only the bootstrapping one may call it
	}})
	ctx := ctxT(t, 3*time.Minute)
	boot := c.Nodes[0]
	waitRootDone(t, c, boot)
	got := ann.list()
	if len(got) != 1 {
		t.Fatalf("root credentials announced %d times, want once", len(got))
	}
	path := filepath.Join(c.Config(0).DataDir, raftstore.RootCredentialsFile)
	ak, secret, mode, raw := readCredentialsFile(t, path)
	if mode != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, mode)
	}
	if got[0].AccessKey != ak || string(got[0].SecretKey) != secret || got[0].File != path || len(ak) != 20 || len(secret) != 40 {
		t.Fatalf("announced %s in %s; the file holds %s", got[0].AccessKey, got[0].File, ak)
	}
	if fi, err := os.Stat(c.Config(0).DataDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, %v; want 0700", fi.Mode(), err)
	}
	for i := 1; i < len(c.Nodes); i++ {
		if _, err := os.Stat(filepath.Join(c.Config(i).DataDir, raftstore.RootCredentialsFile)); !os.IsNotExist(err) {
			t.Fatalf("node %d wrote root credentials too: %v", i, err)
		}
	}
	waitLookup(t, c, ak, secret, raftstore.RootUser)
	users, err := c.Nodes[2].ListUsers(ctx)
	if err != nil || len(users) != 1 || users[0].GetUser() != raftstore.RootUser || !users[0].GetAdmin() || users[0].GetKeys() != 1 || users[0].GetCreatedBy() != "system" {
		t.Fatalf("users %v, %v", users, err)
	}

	// Stop the bootstrapping node (the leader, or not), let the others
	// elect a leader and take writes, then bring it back.
	c.Stop(0)
	c.WaitLeader()
	if _, err := c.Nodes[1].CreateUser(ctx, "while-n1-was-down", false, "test"); err != nil {
		t.Fatal(err)
	}
	c.Start(0)
	waitRootDone(t, c, c.Nodes[0])
	c.WaitReady()
	if n := len(ann.list()); n != 1 {
		t.Fatalf("root credentials announced %d times after a restart, want once", n)
	}
	ak2, secret2, mode2, raw2 := readCredentialsFile(t, path)
	if !bytes.Equal(raw, raw2) || mode2 != 0o600 || ak2 != ak || secret2 != secret {
		t.Fatal("the root credentials file changed across a restart")
	}
	keys, err := c.Nodes[0].ListKeys(ctx, raftstore.RootUser)
	if err != nil || len(keys) != 1 || keys[0].GetAccessKey() != ak {
		t.Fatalf("root's keys after a restart: %v, %v", keys, err)
	}
	waitLookup(t, c, ak, secret, raftstore.RootUser)
	assertSameState(t, c)
}

// TestRootCredentialsFromConfig: configured root credentials (ferryd's
// FERRY_ROOT_ACCESS_KEY and FERRY_ROOT_SECRET_KEY) are the root user's on a
// new site, no file is written and nothing is announced; different ones on
// a site whose root user exists change nothing and draw a warning that
// holds no secret.
func TestRootCredentialsFromConfig(t *testing.T) {
	rng := seed(t)
	ak := randomName(rng, "AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
	secret := randomName(rng, "", 40, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	var ann announcements
	c := raftstoretest.New(t, raftstoretest.Options{Nodes: 1, DisksPerNode: 6, Tune: func(i int, cfg *raftstore.Config) {
		cfg.RootAccessKey, cfg.RootSecretKey = ak, raftstore.Secret(secret)
		cfg.OnRootCredentials = ann.add
	}})
	ctx := ctxT(t, 2*time.Minute)
	waitRootDone(t, c, c.Nodes[0])
	waitLookup(t, c, ak, secret, raftstore.RootUser)
	if len(ann.list()) != 0 {
		t.Fatal("configured credentials were announced")
	}
	if _, err := os.Stat(filepath.Join(c.Config(0).DataDir, raftstore.RootCredentialsFile)); !os.IsNotExist(err) {
		t.Fatalf("a root-credentials file was written for configured credentials: %v", err)
	}

	// Restart with other credentials: a warning, no change.
	c.Stop(0)
	cfg := c.Config(0)
	otherAK, otherSecret := "FKOTHER0000000000001", randomName(rng, "other-", 30, "abcdefghijklmnopqrstuvwxyz")
	cfg.RootAccessKey, cfg.RootSecretKey = otherAK, raftstore.Secret(otherSecret)
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.RaftLogLevel = "off"
	n, err := raftstore.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	c.Eventually(60*time.Second, "root user checked after the restart", func() (bool, error) { return n.RootBootstrapDoneForTest(), nil })
	if !strings.Contains(logs.String(), "root user already exists with other credentials") || !strings.Contains(logs.String(), otherAK) {
		t.Fatalf("no warning about the other credentials:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), otherSecret) || strings.Contains(logs.String(), secret) {
		t.Fatal("the log holds a secret")
	}
	if _, _, err := n.LookupKey(ctx, otherAK); !errors.Is(err, raftstore.ErrNotFound) {
		t.Fatalf("the other access key: %v, want ErrNotFound", err)
	}
	if s, u, err := n.LookupKey(ctx, ak); err != nil || s != secret || u != raftstore.RootUser {
		t.Fatalf("the original root key: user %q, %v", u, err)
	}
	keys, err := n.ListKeys(ctx, raftstore.RootUser)
	if err != nil || len(keys) != 1 {
		t.Fatalf("root's keys: %v, %v", keys, err)
	}
}
