package raftstore

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferrydr/ferry/internal/vfs"
	"github.com/ferrydr/ferry/journal"
	"github.com/ferrydr/ferry/journal/journalpb"
)

func userPut(user string, admin bool) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_USER_PUT, OriginSite: "s1", Hlc: ts(10), Principal: "tester",
		Body: &journalpb.Event_UserPut{UserPut: &journalpb.UserPut{User: user, Admin: admin}}}
}

func rootPut(ak, secret string) *journalpb.Event {
	ev := userPut(RootUser, true)
	ev.GetUserPut().InitialKey = &journalpb.KeyPut{User: RootUser, AccessKey: ak, Secret: secret}
	return ev
}

func userDelete(user string) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_USER_DELETE, OriginSite: "s1", Hlc: ts(10),
		Body: &journalpb.Event_UserDelete{UserDelete: &journalpb.UserDelete{User: user}}}
}

func keyPut(user, ak, secret string) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_KEY_PUT, OriginSite: "s1", Hlc: ts(11), Principal: "tester",
		Body: &journalpb.Event_KeyPut{KeyPut: &journalpb.KeyPut{User: user, AccessKey: ak, Secret: secret}}}
}

func keyDelete(ak string) *journalpb.Event {
	return &journalpb.Event{Kind: journalpb.Kind_KEY_DELETE, OriginSite: "s1", Hlc: ts(12),
		Body: &journalpb.Event_KeyDelete{KeyDelete: &journalpb.KeyDelete{AccessKey: ak}}}
}

// identityDump is every record of the identity buckets, for comparing
// states exactly.
func identityDump(t *testing.T, f *testFSM) string {
	t.Helper()
	var b strings.Builder
	err := f.index().view(func(tx *kvTx) error {
		for _, bkt := range [][]byte{bktUsers, bktKeys, bktUserKeys} {
			if err := tx.Bucket(bkt).ForEach(func(k, v []byte) error {
				fmt.Fprintf(&b, "%s %q %x\n", bkt, k, v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustOK(t *testing.T, res []applyResult) {
	t.Helper()
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("event %d: %v", i, r.Err)
		}
	}
}

func TestIdentityApplyAcceptsEachEvent(t *testing.T) {
	f := newTestFSM(t, nil)
	const (
		rootAK, rootSecret = "FKROOT00000000000001", "root-secret-1"
		ak1, secret1       = "FKALICE0000000000001", "alice-secret-1"
		ak2, secret2       = "AKIA_alice_second_key", "alice/secret+2"
	)
	mustOK(t, f.apply(t,
		rootPut(rootAK, rootSecret),
		userPut("alice", false),
		keyPut("alice", ak1, secret1),
		keyPut("alice", ak2, secret2),
		userPut("ops.admin@bank-1", true),
	))
	idx := f.index()
	for _, tc := range []struct{ ak, secret, user string }{{rootAK, rootSecret, RootUser}, {ak1, secret1, "alice"}, {ak2, secret2, "alice"}} {
		secret, user, err := idx.lookupKey(tc.ak)
		if err != nil || secret != tc.secret || user != tc.user {
			t.Fatalf("lookup %s = %q, %q, %v; want %q, %q", tc.ak, secret, user, err, tc.secret, tc.user)
		}
	}
	users, err := idx.listUsers()
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, u := range users {
		got += fmt.Sprintf("%s admin=%v keys=%d by=%s at=%d; ", u.GetUser(), u.GetAdmin(), u.GetKeys(), u.GetCreatedBy(), u.GetCreatedUnixNanos())
	}
	// The HLC of each event is the creation time; apply makes HLCs strictly
	// increasing, so events stamped with equal times get logical ticks.
	want := "alice admin=false keys=2 by=tester at=10; ops.admin@bank-1 admin=true keys=0 by=tester at=11; root admin=true keys=1 by=tester at=10; "
	if got != want {
		t.Fatalf("users:\n got %s\nwant %s", got, want)
	}
	keys, err := idx.listKeys("alice")
	if err != nil || len(keys) != 2 || keys[0].GetAccessKey() != ak2 || keys[1].GetAccessKey() != ak1 || keys[1].GetUser() != "alice" {
		t.Fatalf("alice's keys = %v, %v", keys, err)
	}
	all, err := idx.listKeys("")
	if err != nil || len(all) != 3 {
		t.Fatalf("all keys = %v, %v", all, err)
	}
	// The user record holds no key: the initial key lives in keys only.
	if d := identityDump(t, f); strings.Count(d, fmt.Sprintf("%x", rootSecret)) != 1 {
		t.Fatalf("the root secret is stored %d times, want once:\n%s", strings.Count(d, fmt.Sprintf("%x", rootSecret)), d)
	}

	mustOK(t, f.apply(t, keyDelete(ak1), keyDelete(ak2), userDelete("alice")))
	for _, ak := range []string{ak1, ak2} {
		if _, _, err := idx.lookupKey(ak); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted key %s: %v", ak, err)
		}
	}
	if _, err := idx.listKeys("alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("keys of a deleted user: %v", err)
	}
	// The journal holds every accepted event, secrets included.
	recs, err := f.journal().Read(t.Context(), 1, 1<<20)
	if err != nil || len(recs) != 8 {
		t.Fatalf("journal holds %d events, %v", len(recs), err)
	}
	if recs[2].Event.GetKeyPut().GetSecret() != secret1 {
		t.Fatalf("journaled KEY_PUT lost its secret")
	}
}

func TestIdentityApplyRejections(t *testing.T) {
	f := newTestFSM(t, nil)
	const secret = "s3cr3t-never-printed"
	mustOK(t, f.apply(t, rootPut("FKROOT00000000000001", secret), userPut("alice", false), keyPut("alice", "FKALICE0000000000001", secret)))
	rootInitial := func(mutate func(*journalpb.UserPut)) *journalpb.Event {
		ev := rootPut("FKROOT00000000000002", secret)
		mutate(ev.GetUserPut())
		return ev
	}
	cases := []struct {
		name string
		ev   *journalpb.Event
		want error
	}{
		{"duplicate user", userPut("alice", true), ErrExists},
		{"second root", rootPut("FKROOT00000000000009", secret), ErrExists},
		{"key for a missing user", keyPut("bob", "FKBOB00000000000001", secret), ErrNotFound},
		{"duplicate access key", keyPut(RootUser, "FKALICE0000000000001", secret), ErrExists},
		{"initial key that exists", func() *journalpb.Event {
			ev := userPut("carol", false)
			ev.GetUserPut().InitialKey = &journalpb.KeyPut{User: "carol", AccessKey: "FKALICE0000000000001", Secret: secret}
			return ev
		}(), ErrExists},
		{"delete a user with keys", userDelete("alice"), ErrPrecondition},
		{"delete root", userDelete(RootUser), ErrInvalidArgument},
		{"delete a missing user", userDelete("bob"), ErrNotFound},
		{"delete a missing key", keyDelete("FKNOPE0000000000000"), ErrNotFound},
		{"root not admin", rootInitial(func(u *journalpb.UserPut) { u.Admin = false }), ErrInvalidArgument},
		{"initial key of another user", rootInitial(func(u *journalpb.UserPut) { u.InitialKey.User = "alice" }), ErrInvalidArgument},
		{"empty user name", userPut("", false), ErrInvalidArgument},
		{"long user name", userPut(strings.Repeat("u", 65), false), ErrInvalidArgument},
		{"bad user name", userPut("al ice", false), ErrInvalidArgument},
		{"slash in user name", userPut("a/b", false), ErrInvalidArgument},
		{"short access key", keyPut("alice", "FKSHORT", secret), ErrInvalidArgument},
		{"long access key", keyPut("alice", strings.Repeat("K", 129), secret), ErrInvalidArgument},
		{"bad access key", keyPut("alice", "FKALICE000000000000/", secret), ErrInvalidArgument},
		{"short secret", keyPut("alice", "FKALICE0000000000002", "1234567"), ErrInvalidArgument},
		{"long secret", keyPut("alice", "FKALICE0000000000002", strings.Repeat("s", 129)), ErrInvalidArgument},
		{"secret with a space", keyPut("alice", "FKALICE0000000000002", "secret with space"), ErrInvalidArgument},
		{"secret with a control character", keyPut("alice", "FKALICE0000000000002", "secret\nline"), ErrInvalidArgument},
		{"no secret", keyPut("alice", "FKALICE0000000000002", ""), ErrInvalidArgument},
		{"bad key of delete", keyDelete("x"), ErrInvalidArgument},
		{"kind without its body", &journalpb.Event{Kind: journalpb.Kind_KEY_PUT, Hlc: ts(1)}, ErrInvalidArgument},
		{"body of another kind", &journalpb.Event{Kind: journalpb.Kind_USER_PUT, Hlc: ts(1),
			Body: &journalpb.Event_KeyDelete{KeyDelete: &journalpb.KeyDelete{AccessKey: "FKALICE0000000000001"}}}, ErrInvalidArgument},
	}
	before, journalBefore := identityDump(t, f), f.journal().LastIndex()
	for _, tc := range cases {
		res := f.apply(t, tc.ev)
		err := res[0].Err
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			continue
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error holds the secret: %v", tc.name, err)
		}
		// The same event rejected again gives the same class: rejections
		// depend on the log only.
		if again := f.apply(t, tc.ev)[0].Err; !errors.Is(again, tc.want) || again.Error() != err.Error() {
			t.Errorf("%s: second rejection %v differs from %v", tc.name, again, err)
		}
	}
	if after := identityDump(t, f); after != before {
		t.Fatalf("a rejected event changed the state:\nbefore %s\nafter %s", before, after)
	}
	if f.journal().LastIndex() != journalBefore {
		t.Fatalf("rejected events were journaled: %d -> %d", journalBefore, f.journal().LastIndex())
	}
	// Deleting the keys lets the user go; the root user's keys may go too,
	// the root user stays.
	mustOK(t, f.apply(t, keyDelete("FKALICE0000000000001"), userDelete("alice"), keyDelete("FKROOT00000000000001")))
	if res := f.apply(t, userDelete(RootUser)); !errors.Is(res[0].Err, ErrInvalidArgument) {
		t.Fatalf("delete of a keyless root: %v", res[0].Err)
	}
	if u, err := f.index().getUser(RootUser); err != nil || u.GetKeys() != 0 || !u.GetAdmin() {
		t.Fatalf("root after its key was deleted: %v, %v", u, err)
	}
}

// TestIdentityReservedFieldsAreAppliedButNotProposed: policies and sealed
// secrets are for later versions. This one does not propose them, but
// applies events that carry them exactly as it applies any other, so
// replicas on different versions stay identical.
func TestIdentityReservedFieldsAreAppliedButNotProposed(t *testing.T) {
	withPolicy := userPut("dave", false)
	withPolicy.GetUserPut().Policies = []string{"readonly"}
	sealed := keyPut("dave", "FKDAVE0000000000001", "dave-secret-1")
	sealed.GetKeyPut().SealedSecret = []byte{1, 2, 3}
	for _, ev := range []*journalpb.Event{withPolicy, sealed} {
		if err := checkProposable(ev); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("proposing %v: %v, want ErrInvalidArgument", ev.GetKind(), err)
		}
	}
	f := newTestFSM(t, nil)
	mustOK(t, f.apply(t, withPolicy, sealed))
	if _, user, err := f.index().lookupKey("FKDAVE0000000000001"); err != nil || user != "dave" {
		t.Fatalf("lookup: %q, %v", user, err)
	}
	bad := userPut("erin", false)
	bad.GetUserPut().Policies = []string{""}
	if res := f.apply(t, bad); !errors.Is(res[0].Err, ErrInvalidArgument) {
		t.Fatalf("empty policy name: %v", res[0].Err)
	}
}

func TestIdentityValidationLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {strings.Repeat("a", 64), true}, {"A.b_c-d@e.f", true}, {"0", true},
		{"", false}, {strings.Repeat("a", 65), false}, {"a b", false}, {"a/b", false}, {"a:b", false}, {"é", false}, {"a\x00", false},
	} {
		if err := validUserName(tc.name); (err == nil) != tc.ok {
			t.Errorf("user name %q: %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		ak string
		ok bool
	}{
		{strings.Repeat("A", 16), true}, {strings.Repeat("a", 128), true}, {"AKIAIOSFODNN7EXAMPLE", true}, {"FK_lower_and_UPPER_9", true},
		{strings.Repeat("A", 15), false}, {strings.Repeat("A", 129), false}, {"AKIAIOSFODNN7EXAMPL-", false}, {"AKIAIOSFODNN7EXAMPL/", false},
	} {
		if err := validAccessKey(tc.ak); (err == nil) != tc.ok {
			t.Errorf("access key %q: %v", tc.ak, err)
		}
	}
	for _, tc := range []struct {
		secret string
		ok     bool
	}{
		{"12345678", true}, {strings.Repeat("s", 128), true}, {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", true}, {"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", true},
		{"1234567", false}, {strings.Repeat("s", 129), false}, {"with space", false}, {"tab\there", false}, {"nöt-ascii", false}, {"", false},
	} {
		err := validSecret(tc.secret)
		if (err == nil) != tc.ok {
			t.Errorf("secret %q: %v", tc.secret, err)
		}
		if err != nil && len(tc.secret) > 0 && strings.Contains(err.Error(), tc.secret) {
			t.Errorf("the error for a bad secret holds it: %v", err)
		}
	}
}

func TestIdentityGeneratedKeys(t *testing.T) {
	seen := map[string]bool{}
	counts := map[byte]int{}
	const draws = 4000
	for range draws {
		ak, secret := newAccessKeyID(), newSecretKey()
		if len(ak) != 20 || !strings.HasPrefix(ak, GeneratedAccessKeyPrefix) || strings.Trim(ak, accessKeyAlphabet) != "" || validAccessKey(ak) != nil {
			t.Fatalf("generated access key %q", ak)
		}
		if len(secret) != 40 || strings.Trim(secret, secretAlphabet) != "" || validSecret(secret) != nil {
			t.Fatalf("generated secret of %d characters is not valid", len(secret))
		}
		if seen[ak] || seen[secret] {
			t.Fatal("a generated credential repeated")
		}
		seen[ak], seen[secret] = true, true
		for i := range len(secret) {
			counts[secret[i]]++
		}
	}
	// Uniform over the alphabet: each of 62 characters is expected
	// 4000*40/62 ≈ 2581 times (σ ≈ 50); a bias from a modulo would show as
	// a > 10% shift of the first characters. 25% bounds are > 12σ.
	want := float64(draws*40) / float64(len(secretAlphabet))
	for i := range len(secretAlphabet) {
		if got := float64(counts[secretAlphabet[i]]); got < 0.75*want || got > 1.25*want {
			t.Errorf("character %q drawn %v times, expected about %.0f", secretAlphabet[i], got, want)
		}
	}
}

func TestIdentitySecretsDoNotPrint(t *testing.T) {
	const secret = "hunter2-hunter2-hunter2"
	cfg := DefaultConfig()
	cfg.RootAccessKey, cfg.RootSecretKey = "FKROOT00000000000001", Secret(secret)
	creds := RootCredentials{AccessKey: "FKROOT00000000000001", SecretKey: Secret(secret), File: "/x"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("creds", "creds", creds, "secret", creds.SecretKey)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("creds", "secret", cfg.RootSecretKey)
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg.RootSecretKey, cfg.RootSecretKey),
		fmt.Sprintf("%v %+v %#v", creds, creds, creds),
		logged.String(),
	} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("a secret printed: %s", s)
		}
	}
	if Secret("").String() != "" || creds.SecretKey.String() != "[redacted]" {
		t.Fatal("redaction")
	}
	// Config.Validate reports bad root credentials without them.
	cfg.NodeID, cfg.DataDir = "n1", "/d"
	cfg.RootSecretKey = "short"
	cfg.RootAccessKey = "hunter2-is-not-an-id"
	err := cfg.Validate()
	if err == nil || !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), "short") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("validate: %v", err)
	}
	cfg.RootSecretKey = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "together") {
		t.Fatalf("access key without a secret: %v", err)
	}
}

func TestRootCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, RootCredentialsFile)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, created, err := loadOrCreateRootCredentials(path, "site1", now)
	if err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v; want 0600", fi.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	want := fmt.Sprintf("# ferry root credentials of site site1, generated 2026-01-02T03:04:05Z.\n"+
		"# Keep this file secret. The root user can create other users and keys (ferryctl user, ferryctl key).\n"+
		"[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", c.AccessKey, string(c.SecretKey))
	if string(data) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", data, want)
	}
	// No temporary file is left behind.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("dir holds %d entries", len(ents))
	}
	again, created, err := loadOrCreateRootCredentials(path, "site1", now.Add(time.Hour))
	if err != nil || created || again != c {
		t.Fatalf("second load: %v, created %v, %v", again.AccessKey, created, err)
	}
	// A file made readable by others is made private again.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateRootCredentials(path, "site1", now); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after load %v", fi.Mode())
	}
	// A damaged file is reported, by line, without its content, and kept.
	for name, body := range map[string]string{
		"no separator": "[default]\naws_access_key_id FKROOT00000000000001\n",
		"short secret": "aws_access_key_id = FKROOT00000000000001\naws_secret_access_key = tiny-s\n",
		"no key":       "aws_secret_access_key = long-enough-secret\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := loadOrCreateRootCredentials(path, "site1", now)
		if err == nil || strings.Contains(err.Error(), "tiny-s") || strings.Contains(err.Error(), "long-enough") {
			t.Errorf("%s: %v", name, err)
		}
		if got, _ := os.ReadFile(path); string(got) != body {
			t.Errorf("%s: the damaged file was rewritten", name)
		}
	}
}

func TestIdentityPrivateDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := securePrivateDir(dir, discardLogger()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, want 0700", fi.Mode().Perm())
	}
}

// TestIdentityErrorCodesBothWays: every error class, ErrExists among them,
// crosses gRPC and comes back as itself.
func TestIdentityErrorCodesBothWays(t *testing.T) {
	for _, m := range codeMappings {
		err := fmt.Errorf("%w: access key FKX", m.class)
		st := toStatus(err)
		back := FromStatus(st)
		if !errors.Is(back, m.class) {
			t.Errorf("%v: came back as %v", m.class, back)
		}
		for _, other := range codeMappings {
			if other.class != m.class && errors.Is(back, other.class) {
				t.Errorf("%v: came back also as %v", m.class, other.class)
			}
		}
	}
	if !errors.Is(FromStatus(toStatus(fmt.Errorf("%w: user alice", ErrExists))), ErrExists) ||
		errors.Is(FromStatus(toStatus(fmt.Errorf("%w: user alice", ErrExists))), ErrBucketExists) {
		t.Fatal("ErrExists does not round-trip apart from ErrBucketExists")
	}
}

// BenchmarkLookupKey: what the S3 gateway pays per request to find a
// secret, out of 1000 keys.
func BenchmarkLookupKey(b *testing.B) {
	fs := vfs.NewMem()
	if err := fs.MkdirAll("/journal"); err != nil {
		b.Fatal(err)
	}
	jcfg := journal.Config{Dir: "/journal", FS: fs}
	jr, err := journal.Open(jcfg)
	if err != nil {
		b.Fatal(err)
	}
	f, err := openFSM(jcfg, jr, filepath.Join(b.TempDir(), "index"), indexOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = errors.Join(f.index().close(), f.journal().Close()) })
	evs := []*journalpb.Event{userPut("bench", false)}
	for i := range 1000 {
		evs = append(evs, keyPut("bench", fmt.Sprintf("FKBENCH%013d", i), "bench-secret"))
	}
	var entries []entry
	for i, ev := range evs {
		data, err := encodeEntry(ev)
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, entry{Index: uint64(i + 1), Data: data})
	}
	if _, err := f.applyBatch(entries); err != nil {
		b.Fatal(err)
	}
	aks := make([]string, 1000)
	for i := range aks {
		aks[i] = fmt.Sprintf("FKBENCH%013d", i)
	}
	i := 0
	for b.Loop() {
		if _, _, err := f.index().lookupKey(aks[i%len(aks)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// FuzzParseRootCredentials: whatever a root-credentials file holds, the
// parser accepts only valid credentials, and its errors are built from the
// path, a line number and fixed text: nothing of the content leaks.
func FuzzParseRootCredentials(f *testing.F) {
	f.Add("[default]\naws_access_key_id = FKROOT00000000000001\naws_secret_access_key = abcdefgh12345678\n")
	f.Add("# comment\n; other\naws_access_key_id=AKIA_xxxxxxxxxxxxxxxx\r\naws_secret_access_key=!\"#$%&'()*\r\n")
	f.Add("aws_access_key_id FKROOT00000000000001\n")
	f.Add("aws_access_key_id = FKROOT00000000000001\naws_secret_access_key = with space\n")
	f.Add("aws_secret_access_key = " + strings.Repeat("s", 70000) + "\n")
	allowed := regexp.MustCompile(`^(P line \d+: want NAME = VALUE` +
		`|P: aws_access_key_id: raftstore: invalid argument: access key (must be 16 to 128 characters long|may hold only letters, digits and _)` +
		`|P: aws_secret_access_key: raftstore: invalid argument: secret key (must be 8 to 128 characters long|may hold only printable ASCII characters without spaces)` +
		`|read P: bufio.Scanner: token too long)$`)
	f.Fuzz(func(t *testing.T, content string) {
		c, err := parseRootCredentials(strings.NewReader(content), "P")
		if err != nil {
			if !allowed.MatchString(err.Error()) {
				t.Fatalf("error %q is not one of the fixed forms", err)
			}
			return
		}
		if validAccessKey(c.AccessKey) != nil || validSecret(string(c.SecretKey)) != nil || c.File != "P" {
			t.Fatalf("accepted invalid credentials %+v", c)
		}
	})
}
