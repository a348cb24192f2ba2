package raftstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// Identity: the users and access keys the site's S3 gateways authenticate.
//
// They are replicated state like buckets: USER_PUT, USER_DELETE, KEY_PUT
// and KEY_DELETE events, projected by the state machine into three index
// buckets:
//
//	users:     name -> USER_PUT event bytes (initial_key cleared; the HLC
//	           is the creation time, the principal the creator)
//	keys:      access key -> KEY_PUT event bytes (with the secret)
//	user-keys: user NUL access key -> empty (a user's keys, in order)
//
// Rules, checked by apply against the replicated index (so every replica
// reaches the same verdict), all before anything is written:
//   - a user name is 1 to 64 characters of [A-Za-z0-9_.@-]; an access key
//     id 16 to 128 of [A-Za-z0-9_] (as AWS); a secret 8 to 128 printable
//     ASCII characters without spaces (validate.go);
//   - USER_PUT of an existing user and KEY_PUT of an existing access key
//     are refused (ErrExists); KEY_PUT needs its user (ErrNotFound);
//   - USER_DELETE of a user that still has keys is refused
//     (ErrPrecondition): keys are never deleted as a side effect;
//   - the user "root" is an administrator and cannot be deleted
//     (ErrInvalidArgument); its keys can be, and added, like any user's.
//
// INVARIANT: every key in keys has its user in users and its entry in
// user-keys, and nothing else is in user-keys.
//
// Secrets are in plain text in the events, the raft log, the journal, the
// index and snapshots, because every node's gateway needs them to verify
// SigV4 signatures. They never appear in an error, a log line or any
// response except CreateKey's (docs/operations.md says how the files that
// hold them are protected).

// RootUser is the site's first administrator, created once by the node
// that bootstraps the site.
const RootUser = "root"

// RootCredentialsFile is the name, in the data directory, of the file
// where the bootstrapping node keeps the root credentials it generated.
const RootCredentialsFile = "root-credentials"

var bktUserKeys = []byte("user-keys")

func userKeyKey(user, accessKey string) []byte {
	k := make([]byte, 0, len(user)+1+len(accessKey))
	k = append(k, user...)
	k = append(k, 0)
	return append(k, accessKey...)
}

// Apply (called from applyIdentity in fsm.go).

func applyUserPut(tx *kvTx, ev *journalpb.Event) error {
	u := ev.GetUserPut()
	users := tx.Bucket(bktUsers)
	if users.Get([]byte(u.GetUser())) != nil {
		return fmt.Errorf("%w: user %s", ErrExists, u.GetUser())
	}
	k := u.GetInitialKey()
	if k != nil {
		if tx.Bucket(bktKeys).Get([]byte(k.GetAccessKey())) != nil {
			return fmt.Errorf("%w: access key %s", ErrExists, k.GetAccessKey())
		}
	}
	// Checks done; from here on only writes.
	rec := proto.Clone(ev).(*journalpb.Event)
	rec.GetUserPut().InitialKey = nil
	if err := putEvent(users, []byte(u.GetUser()), rec); err != nil {
		return err
	}
	if k != nil {
		return putKey(tx, ev, k)
	}
	return nil
}

func applyKeyPut(tx *kvTx, ev *journalpb.Event) error {
	k := ev.GetKeyPut()
	if tx.Bucket(bktUsers).Get([]byte(k.GetUser())) == nil {
		return fmt.Errorf("%w: user %s", ErrNotFound, k.GetUser())
	}
	if tx.Bucket(bktKeys).Get([]byte(k.GetAccessKey())) != nil {
		return fmt.Errorf("%w: access key %s", ErrExists, k.GetAccessKey())
	}
	return putKey(tx, ev, k)
}

// putKey records access key k of the event ev (a KEY_PUT, or the USER_PUT
// that carries k as its initial key) as a KEY_PUT record.
func putKey(tx *kvTx, ev *journalpb.Event, k *journalpb.KeyPut) error {
	rec := &journalpb.Event{
		OriginSite: ev.GetOriginSite(), OriginSeq: ev.GetOriginSeq(), Hlc: ev.GetHlc(), Epoch: ev.GetEpoch(),
		Principal: ev.GetPrincipal(), Group: ev.GetGroup(), Kind: journalpb.Kind_KEY_PUT,
		Body: &journalpb.Event_KeyPut{KeyPut: k},
	}
	if err := putEvent(tx.Bucket(bktKeys), []byte(k.GetAccessKey()), rec); err != nil {
		return err
	}
	if err := tx.Bucket(bktUserKeys).Put(userKeyKey(k.GetUser(), k.GetAccessKey()), []byte{}); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

func applyUserDelete(tx *kvTx, ev *journalpb.Event) error {
	name := ev.GetUserDelete().GetUser()
	if name == RootUser {
		return fmt.Errorf("%w: the %s user cannot be deleted", ErrInvalidArgument, RootUser)
	}
	users := tx.Bucket(bktUsers)
	if users.Get([]byte(name)) == nil {
		return fmt.Errorf("%w: user %s", ErrNotFound, name)
	}
	prefix := userKeyKey(name, "")
	c := tx.Bucket(bktUserKeys).Cursor()
	keys := 0
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys++
	}
	c.Close()
	if keys > 0 {
		return fmt.Errorf("%w: user %s still has access keys (%d); delete them first", ErrPrecondition, name, keys)
	}
	if err := users.Delete([]byte(name)); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

func applyKeyDelete(tx *kvTx, ev *journalpb.Event) error {
	ak := ev.GetKeyDelete().GetAccessKey()
	keys := tx.Bucket(bktKeys)
	v := keys.Get([]byte(ak))
	if v == nil {
		return fmt.Errorf("%w: access key %s", ErrNotFound, ak)
	}
	rec, err := decodeKeyRecord(ak, v)
	if err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := keys.Delete([]byte(ak)); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	if err := tx.Bucket(bktUserKeys).Delete(userKeyKey(rec.GetKeyPut().GetUser(), ak)); err != nil {
		return fmt.Errorf("%w: %v", errFatal, err)
	}
	return nil
}

// decodeKeyRecord decodes a keys record. Its error names the access key,
// never the bytes (they hold the secret).
func decodeKeyRecord(accessKey string, v []byte) (*journalpb.Event, error) {
	ev := &journalpb.Event{}
	if err := proto.Unmarshal(v, ev); err != nil || ev.GetKeyPut() == nil {
		return nil, fmt.Errorf("%w: record of access key %s does not decode", ErrCorrupt, accessKey)
	}
	return ev, nil
}

func decodeUserRecord(name string, v []byte) (*journalpb.Event, error) {
	ev := &journalpb.Event{}
	if err := proto.Unmarshal(v, ev); err != nil || ev.GetUserPut() == nil {
		return nil, fmt.Errorf("%w: record of user %s does not decode", ErrCorrupt, name)
	}
	return ev, nil
}

// Index reads.

// lookupKey returns the secret and user of an access key.
//
// It is one point read of the database, without the snapshot a view
// takes: a single key needs no consistent view of others.
func (x *index) lookupKey(accessKey string) (secret, user string, err error) {
	tx := &kvTx{r: x.db}
	v := tx.Bucket(bktKeys).Get([]byte(accessKey))
	if tx.err != nil {
		return "", "", tx.err
	}
	if v == nil {
		return "", "", fmt.Errorf("%w: unknown access key", ErrNotFound)
	}
	rec, err := decodeKeyRecord(accessKey, v)
	if err != nil {
		return "", "", err
	}
	return rec.GetKeyPut().GetSecret(), rec.GetKeyPut().GetUser(), nil
}

func keyInfo(rec *journalpb.Event) *nodepb.KeyInfo {
	k := rec.GetKeyPut()
	return &nodepb.KeyInfo{
		AccessKey: k.GetAccessKey(), User: k.GetUser(),
		CreatedUnixNanos: rec.GetHlc().GetWallNanos(), CreatedBy: rec.GetPrincipal(),
	}
}

func (x *index) getUser(name string) (*nodepb.UserInfo, error) {
	var out *nodepb.UserInfo
	err := x.view(func(tx *kvTx) error {
		v := tx.Bucket(bktUsers).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("%w: user %s", ErrNotFound, name)
		}
		rec, err := decodeUserRecord(name, v)
		if err != nil {
			return err
		}
		out = userInfo(rec)
		prefix := userKeyKey(name, "")
		c := tx.Bucket(bktUserKeys).Cursor()
		defer c.Close()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out.Keys++
		}
		return nil
	})
	return out, err
}

func userInfo(rec *journalpb.Event) *nodepb.UserInfo {
	u := rec.GetUserPut()
	return &nodepb.UserInfo{User: u.GetUser(), Admin: u.GetAdmin(), CreatedUnixNanos: rec.GetHlc().GetWallNanos(), CreatedBy: rec.GetPrincipal()}
}

// listUsers returns every user in name order with its number of keys.
func (x *index) listUsers() ([]*nodepb.UserInfo, error) {
	var out []*nodepb.UserInfo
	err := x.view(func(tx *kvTx) error {
		counts := map[string]uint32{}
		err := tx.Bucket(bktUserKeys).ForEach(func(k, _ []byte) error {
			user, _, _ := bytes.Cut(k, []byte{0})
			counts[string(user)]++
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bktUsers).ForEach(func(k, v []byte) error {
			rec, err := decodeUserRecord(string(k), v)
			if err != nil {
				return err
			}
			u := userInfo(rec)
			u.Keys = counts[u.GetUser()]
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// listKeys returns user's keys (every key when user is empty) in access
// key order. ErrNotFound when user does not exist.
func (x *index) listKeys(user string) ([]*nodepb.KeyInfo, error) {
	var out []*nodepb.KeyInfo
	err := x.view(func(tx *kvTx) error {
		keys := tx.Bucket(bktKeys)
		if user == "" {
			return keys.ForEach(func(k, v []byte) error {
				rec, err := decodeKeyRecord(string(k), v)
				if err != nil {
					return err
				}
				out = append(out, keyInfo(rec))
				return nil
			})
		}
		if tx.Bucket(bktUsers).Get([]byte(user)) == nil {
			return fmt.Errorf("%w: user %s", ErrNotFound, user)
		}
		prefix := userKeyKey(user, "")
		var aks []string
		c := tx.Bucket(bktUserKeys).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			aks = append(aks, string(k[len(prefix):]))
		}
		c.Close()
		for _, ak := range aks {
			v := keys.Get([]byte(ak))
			if v == nil {
				return fmt.Errorf("%w: user %s lists access key %s, which has no record", ErrCorrupt, user, ak)
			}
			rec, err := decodeKeyRecord(ak, v)
			if err != nil {
				return err
			}
			out = append(out, keyInfo(rec))
		}
		return nil
	})
	return out, err
}

// The node API. Writes are events through raft; listings are
// linearizable; LookupKey reads the local index.

// CreateUser creates a user. The name "root" is reserved for the user the
// site bootstraps. ErrExists if the user exists.
func (n *Node) CreateUser(ctx context.Context, user string, admin bool, principal string) (*nodepb.UserInfo, error) {
	if user == RootUser {
		return nil, fmt.Errorf("%w: the user name %s is reserved for the site's bootstrap administrator", ErrInvalidArgument, RootUser)
	}
	c, err := n.Propose(ctx, &journalpb.Event{
		Kind: journalpb.Kind_USER_PUT, Principal: principal,
		Body: &journalpb.Event_UserPut{UserPut: &journalpb.UserPut{User: user, Admin: admin}},
	})
	if err != nil {
		return nil, err
	}
	if err := n.waitApplied(ctx, c.RaftIndex); err != nil {
		return nil, err
	}
	return n.fsm.index().getUser(user)
}

// DeleteUser deletes a user that has no access keys left (ErrPrecondition
// otherwise). The root user cannot be deleted.
func (n *Node) DeleteUser(ctx context.Context, user, principal string) error {
	_, err := n.Propose(ctx, &journalpb.Event{
		Kind: journalpb.Kind_USER_DELETE, Principal: principal,
		Body: &journalpb.Event_UserDelete{UserDelete: &journalpb.UserDelete{User: user}},
	})
	return err
}

// ListUsers lists the site's users in name order.
func (n *Node) ListUsers(ctx context.Context) ([]*nodepb.UserInfo, error) {
	if err := n.linearize(ctx); err != nil {
		return nil, err
	}
	return n.fsm.index().listUsers()
}

// CreateKey creates an access key for user and returns it with its secret:
// the only call that ever returns a secret. An empty accessKey or secret
// is generated (crypto/rand): a 20-character id "FK" + [A-Z0-9], a
// 40-character secret of [A-Za-z0-9]. ErrNotFound if the user does not
// exist, ErrExists if the access key does.
func (n *Node) CreateKey(ctx context.Context, user, accessKey, secret, principal string) (*nodepb.CreateKeyResponse, error) {
	genKey := accessKey == ""
	if secret == "" {
		secret = newSecretKey()
	}
	for attempt := 0; ; attempt++ {
		if genKey {
			accessKey = newAccessKeyID()
		}
		ev := &journalpb.Event{
			Kind: journalpb.Kind_KEY_PUT, Principal: principal,
			Body: &journalpb.Event_KeyPut{KeyPut: &journalpb.KeyPut{User: user, AccessKey: accessKey, Secret: secret}},
		}
		c, err := n.Propose(ctx, ev)
		if errors.Is(err, ErrExists) && genKey && attempt < 3 {
			continue // a generated id collided (about 1 in 10^28): draw another
		}
		if err != nil {
			return nil, err
		}
		info := &nodepb.KeyInfo{AccessKey: accessKey, User: user, CreatedUnixNanos: ev.GetHlc().GetWallNanos(), CreatedBy: ev.GetPrincipal()}
		// Read the record back, so the creation time is the one the site
		// recorded, and a read on this node right after sees the key.
		if err := n.waitApplied(ctx, c.RaftIndex); err != nil {
			return nil, err
		}
		if keys, err := n.fsm.index().listKeys(user); err == nil {
			for _, k := range keys {
				if k.GetAccessKey() == accessKey {
					info = k
				}
			}
		}
		return &nodepb.CreateKeyResponse{Key: info, SecretKey: secret}, nil
	}
}

// DeleteKey deletes an access key. ErrNotFound if it does not exist.
func (n *Node) DeleteKey(ctx context.Context, accessKey, principal string) error {
	_, err := n.Propose(ctx, &journalpb.Event{
		Kind: journalpb.Kind_KEY_DELETE, Principal: principal,
		Body: &journalpb.Event_KeyDelete{KeyDelete: &journalpb.KeyDelete{AccessKey: accessKey}},
	})
	return err
}

// ListKeys lists user's access keys (every key of the site when user is
// empty) in access key order, without their secrets. ErrNotFound if user
// does not exist.
func (n *Node) ListKeys(ctx context.Context, user string) ([]*nodepb.KeyInfo, error) {
	if err := n.linearize(ctx); err != nil {
		return nil, err
	}
	return n.fsm.index().listKeys(user)
}

// LookupKey returns the secret of an access key and the user it belongs
// to, for the S3 gateway's signature check; ErrNotFound for an unknown
// key. It reads this node's index without a round trip to the leader, so
// it costs one local index read (a few microseconds; BenchmarkLookupKey),
// after any batch this node is applying has committed. On a node whose
// state machine lags behind the log, a key deleted (or created) moments
// ago may still (or not yet) authenticate, for at most that node's apply
// lag (`ferryctl status` shows the commit and applied indexes). The error
// never holds the access key or the secret.
func (n *Node) LookupKey(ctx context.Context, accessKey string) (secret, user string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	if validAccessKey(accessKey) != nil {
		return "", "", fmt.Errorf("%w: unknown access key", ErrNotFound)
	}
	err = n.fsm.withIndex(func(x *index) error {
		secret, user, err = x.lookupKey(accessKey)
		return err
	})
	return secret, user, err
}

// withIndex runs fn on the index under the state machine's lock, so that a
// snapshot being installed cannot close the index while fn reads it (the
// gateway calls LookupKey on every request, so it must not race with a
// restore). fn must be short: applying waits for it.
func (f *fsm) withIndex(fn func(*index) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn(f.mu.idx)
}

// Generated credentials.

const (
	accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// GeneratedAccessKeyPrefix starts every access key id a node generates.
	GeneratedAccessKeyPrefix = "FK"
)

// newAccessKeyID returns "FK" and 18 random characters of [A-Z0-9]: 20 in
// all, like an AWS access key id.
func newAccessKeyID() string {
	return GeneratedAccessKeyPrefix + randomString(accessKeyAlphabet, 18)
}

// newSecretKey returns 40 random characters of [A-Za-z0-9] (238 bits).
func newSecretKey() string { return randomString(secretAlphabet, 40) }

// randomString draws n characters of alphabet uniformly from crypto/rand
// (rejection sampling: bytes past the largest multiple of the alphabet's
// size are drawn again).
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// Root credentials.

// Secret is a secret string that does not print: fmt and log/slog show
// "[redacted]" for it (or nothing when it is empty). Convert it with
// string(s) where the plain value is needed.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return fmt.Sprintf("raftstore.Secret(%q)", s.String()) }

// LogValue keeps log/slog from printing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// RootCredentials are the root user's credentials that a node generated
// and stored in File; Config.OnRootCredentials receives them once.
type RootCredentials struct {
	AccessKey string
	SecretKey Secret
	// File is DataDir/root-credentials.
	File string
}

// rootBootstrap is the state of the root user's creation. The maintain
// goroutine owns it; done may be read by others.
type rootBootstrap struct {
	// done: the root user exists here and the checks that follow its
	// creation were made (or the bootstrap gave up, or this node has no
	// part in it); nothing more to do in this process.
	done atomic.Bool
	// pending holds credentials this process generated or read from the
	// root-credentials file and has not announced yet.
	pending *RootCredentials
}

// bootstrapRootIfNeeded creates the root user when the site has none yet,
// with the configured credentials (Config.RootAccessKey and RootSecretKey)
// or, on a node that bootstraps the site, with credentials it generates and
// writes to DataDir/root-credentials before proposing them (so a retry
// after a crash or a failed proposal reuses them). The user and its key
// are one event, and the state machine refuses a second root user, so the
// proposal is idempotent across restarts and leader changes. Once the root
// user exists, credentials this node generated are announced
// (Config.OnRootCredentials), and configured credentials that differ from
// the root user's are reported with a warning and otherwise ignored.
func (n *Node) bootstrapRootIfNeeded(ctx context.Context) error {
	st := &n.root
	if st.done.Load() {
		return nil
	}
	if !n.cfg.Bootstrap && n.cfg.RootAccessKey == "" {
		st.done.Store(true) // the node that bootstraps the site creates the root user
		return nil
	}
	// Catch up with the leader first: a node whose index lags must not take
	// a root user created long ago for a missing one.
	if err := n.linearize(ctx); err != nil {
		return err
	}
	keys, err := n.fsm.index().listKeys(RootUser)
	if err == nil {
		n.rootExists(keys)
		return nil
	}
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	var creds RootCredentials
	switch {
	case n.cfg.RootAccessKey != "":
		creds = RootCredentials{AccessKey: n.cfg.RootAccessKey, SecretKey: n.cfg.RootSecretKey}
	case st.pending != nil:
		creds = *st.pending
	default:
		path := filepath.Join(n.cfg.DataDir, RootCredentialsFile)
		c, created, err := loadOrCreateRootCredentials(path, n.cfg.Site, time.Now())
		if err != nil {
			st.done.Store(true)
			n.log.Error("cannot create the root user: its credentials file is unusable; fix or remove it and restart", "file", path, "err", err)
			return nil
		}
		if created {
			n.log.Info("generated root credentials", "file", path, "access_key", c.AccessKey)
		} else {
			n.log.Info("using the root credentials of an earlier start", "file", path, "access_key", c.AccessKey)
		}
		st.pending, creds = &c, c
	}
	ev := &journalpb.Event{
		Kind: journalpb.Kind_USER_PUT, Principal: "system",
		Body: &journalpb.Event_UserPut{UserPut: &journalpb.UserPut{
			User: RootUser, Admin: true,
			InitialKey: &journalpb.KeyPut{User: RootUser, AccessKey: creds.AccessKey, Secret: string(creds.SecretKey)},
		}},
	}
	if err := checkProposable(ev); err != nil {
		st.done.Store(true)
		n.log.Error("cannot create the root user", "err", err)
		return nil
	}
	_, err = n.proposeOnce(ctx, ev)
	switch {
	case err == nil:
		n.log.Info("created the root user", "access_key", creds.AccessKey)
	case errors.Is(err, ErrExists):
		// The root user exists (created by another node, or by an attempt
		// whose answer was lost), or its access key belongs to another
		// user. Catch up with the leader to tell which.
		if lerr := n.linearize(ctx); lerr != nil {
			return lerr
		}
		if _, uerr := n.fsm.index().getUser(RootUser); errors.Is(uerr, ErrNotFound) {
			st.done.Store(true)
			n.log.Error("cannot create the root user: its access key belongs to another user", "access_key", creds.AccessKey)
			return nil
		}
	case errors.Is(err, ErrInvalidArgument):
		st.done.Store(true)
		n.log.Error("cannot create the root user", "err", err)
		return nil
	default:
		return fmt.Errorf("create the root user: %w", err) // retried at the next round
	}
	keys, err = n.fsm.index().listKeys(RootUser)
	if err != nil {
		return nil // not applied here yet: the next round finishes
	}
	n.rootExists(keys)
	return nil
}

// rootExists runs once the root user exists in the local index.
func (n *Node) rootExists(keys []*nodepb.KeyInfo) {
	st := &n.root
	st.done.Store(true)
	if p := st.pending; p != nil {
		st.pending = nil
		if slices.ContainsFunc(keys, func(k *nodepb.KeyInfo) bool { return k.GetAccessKey() == p.AccessKey }) {
			if n.cfg.OnRootCredentials != nil {
				n.cfg.OnRootCredentials(*p)
			}
		} else {
			n.log.Warn("the root credentials this node generated were not used: the site's root user was created with another key", "file", p.File, "access_key", p.AccessKey)
		}
	}
	if ak := n.cfg.RootAccessKey; ak != "" {
		secret, user, err := n.fsm.index().lookupKey(ak)
		if err != nil || user != RootUser || subtle.ConstantTimeCompare([]byte(secret), []byte(n.cfg.RootSecretKey)) != 1 {
			n.log.Warn("the site's root user already exists with other credentials than the configured ones (FERRY_ROOT_ACCESS_KEY, FERRY_ROOT_SECRET_KEY); they are ignored and nothing was changed",
				"access_key", ak)
		}
	}
}

// The root-credentials file is an AWS shared credentials file, usable as
// AWS_SHARED_CREDENTIALS_FILE as it is:
//
//	# ferry root credentials of site site1, generated 2026-01-02T03:04:05Z.
//	[default]
//	aws_access_key_id = FK...
//	aws_secret_access_key = ...
//
// It is created with mode 0600, atomically (temporary file, fsync,
// rename, directory fsync), and never rewritten.

func loadOrCreateRootCredentials(path, site string, now time.Time) (RootCredentials, bool, error) {
	c, err := readRootCredentials(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return c, false, err
	}
	c = RootCredentials{AccessKey: newAccessKeyID(), SecretKey: Secret(newSecretKey()), File: path}
	body := fmt.Sprintf("# ferry root credentials of site %s, generated %s.\n"+
		"# Keep this file secret. The root user can create other users and keys (ferryctl user, ferryctl key).\n"+
		"[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		site, now.UTC().Format(time.RFC3339), c.AccessKey, string(c.SecretKey))
	if err := writeFileAtomic(path, []byte(body)); err != nil {
		return RootCredentials{}, false, err
	}
	return c, true, nil
}

// readRootCredentials parses a root-credentials file. Errors name the
// line, never its content.
func readRootCredentials(path string) (RootCredentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return RootCredentials{}, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return RootCredentials{}, fmt.Errorf("%s is readable by others and cannot be made private: %w", path, err)
		}
	}
	return parseRootCredentials(f, path)
}

// parseRootCredentials parses the content of a root-credentials file.
// Errors name path and the line, never the content.
func parseRootCredentials(r io.Reader, path string) (RootCredentials, error) {
	c := RootCredentials{File: path}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == ';' || s[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return RootCredentials{}, fmt.Errorf("%s line %d: want NAME = VALUE", path, line)
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKey = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretKey = Secret(strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		return RootCredentials{}, fmt.Errorf("read %s: %w", path, err)
	}
	if err := validAccessKey(c.AccessKey); err != nil {
		return RootCredentials{}, fmt.Errorf("%s: aws_access_key_id: %w", path, err)
	}
	if err := validSecret(string(c.SecretKey)); err != nil {
		return RootCredentials{}, fmt.Errorf("%s: aws_secret_access_key: %w", path, err)
	}
	return c, nil
}

// writeFileAtomic writes a new private (0600) file: a temporary file
// beside path, synced, renamed over path, and the directory synced.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return errors.Join(err, f.Close())
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(path)
}

// securePrivateDir makes dir accessible to its owner only (0700) when it
// is not: everything below the data directory (raft log, snapshots,
// journal, index, root credentials) may hold secrets.
func securePrivateDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	log.Warn("the data directory was accessible to other users; made it private (0700)", "dir", dir, "mode", fi.Mode().Perm().String())
	return os.Chmod(dir, 0o700)
}
