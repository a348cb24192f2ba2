package raftstore

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/ferrydr/ferry/journal/journalpb"
)

// MaxKeyBytes is the longest object key accepted (as in S3).
const MaxKeyBytes = 1024

// validBucketName applies S3's bucket naming rules: 3 to 63 characters of
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit, no two adjacent dots, not an IP address.
func validBucketName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: bucket name %q %s", ErrInvalidArgument, name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may hold only lowercase letters, digits, dots and hyphens")
		}
	}
	isAlnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must start and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not hold two adjacent dots")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("must not be an IP address")
	}
	return nil
}

// validKey rejects keys that are empty, too long, not UTF-8, hold NUL or
// hold a ".." path segment.
func validKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: object key %q %s", ErrInvalidArgument, key, why)
	}
	switch {
	case key == "":
		return bad("is empty")
	case len(key) > MaxKeyBytes:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxKeyBytes))
	case !utf8.ValidString(key):
		return bad("is not valid UTF-8")
	case strings.ContainsRune(key, 0):
		return bad("holds a NUL byte")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." {
			return bad(`holds a ".." segment`)
		}
	}
	return nil
}

// validateEvent checks an event's shape: the body matches the kind and is
// well formed. It is pure, and runs both before proposing and in apply
// (before anything is changed), so a malformed event never half-applies.
func validateEvent(ev *journalpb.Event) error {
	if ev == nil {
		return fmt.Errorf("%w: nil event", ErrInvalidArgument)
	}
	want := map[journalpb.Kind]bool{}
	switch ev.GetBody().(type) {
	case *journalpb.Event_ObjectPut:
		want[journalpb.Kind_OBJECT_PUT] = true
	case *journalpb.Event_ObjectDelete:
		want[journalpb.Kind_OBJECT_DELETE] = true
	case *journalpb.Event_BucketCreate:
		want[journalpb.Kind_BUCKET_CREATE] = true
	case *journalpb.Event_BucketDelete:
		want[journalpb.Kind_BUCKET_DELETE] = true
	case *journalpb.Event_BucketConfig:
		want[journalpb.Kind_BUCKET_CONFIG] = true
	case *journalpb.Event_UserPut:
		want[journalpb.Kind_USER_PUT] = true
	case *journalpb.Event_UserDelete:
		want[journalpb.Kind_USER_DELETE] = true
	case *journalpb.Event_KeyPut:
		want[journalpb.Kind_KEY_PUT] = true
	case *journalpb.Event_KeyDelete:
		want[journalpb.Kind_KEY_DELETE] = true
	case *journalpb.Event_VolumeWrite:
		want[journalpb.Kind_VOLUME_WRITE] = true
	case *journalpb.Event_VolumeTrim:
		want[journalpb.Kind_VOLUME_TRIM] = true
	case *journalpb.Event_SnapshotCreate:
		want[journalpb.Kind_SNAPSHOT_CREATE] = true
	case *journalpb.Event_RoleChange:
		want[journalpb.Kind_ROLE_CHANGE] = true
	case *journalpb.Event_NodeRegister:
		want[journalpb.Kind_NODE_REGISTER] = true
	case *journalpb.Event_PoolCreate:
		want[journalpb.Kind_POOL_CREATE] = true
	case *journalpb.Event_MultipartCreate:
		want[journalpb.Kind_MULTIPART_CREATE] = true
	case *journalpb.Event_MultipartPart:
		want[journalpb.Kind_MULTIPART_PART] = true
	case *journalpb.Event_MultipartComplete:
		want[journalpb.Kind_MULTIPART_COMPLETE] = true
	case *journalpb.Event_MultipartAbort:
		want[journalpb.Kind_MULTIPART_ABORT] = true
	case *journalpb.Event_ObjectUpdate:
		want[journalpb.Kind_OBJECT_UPDATE] = true
	case nil:
		if ev.GetSkippable() {
			return nil
		}
	}
	if !want[ev.GetKind()] {
		return fmt.Errorf("%w: event kind %v does not match its body %T", ErrInvalidArgument, ev.GetKind(), ev.GetBody())
	}
	switch b := ev.GetBody().(type) {
	case *journalpb.Event_ObjectPut:
		return validateObjectPut(b.ObjectPut)
	case *journalpb.Event_ObjectDelete:
		return validObjectName(b.ObjectDelete.GetBucket(), b.ObjectDelete.GetKey())
	case *journalpb.Event_MultipartCreate:
		if err := validObjectName(b.MultipartCreate.GetBucket(), b.MultipartCreate.GetKey()); err != nil {
			return err
		}
		return validLock(b.MultipartCreate.GetLock())
	case *journalpb.Event_MultipartPart:
		if err := validObjectName(b.MultipartPart.GetBucket(), b.MultipartPart.GetKey()); err != nil {
			return err
		}
		return validatePart(b.MultipartPart.GetPart())
	case *journalpb.Event_MultipartComplete:
		return validObjectName(b.MultipartComplete.GetBucket(), b.MultipartComplete.GetKey())
	case *journalpb.Event_MultipartAbort:
		return validObjectName(b.MultipartAbort.GetBucket(), b.MultipartAbort.GetKey())
	case *journalpb.Event_ObjectUpdate:
		return validObjectName(b.ObjectUpdate.GetBucket(), b.ObjectUpdate.GetKey())
	case *journalpb.Event_BucketCreate:
		return validBucketName(b.BucketCreate.GetBucket())
	case *journalpb.Event_BucketDelete:
		return validBucketName(b.BucketDelete.GetBucket())
	case *journalpb.Event_UserPut:
		return validateUserPut(b.UserPut)
	case *journalpb.Event_UserDelete:
		return validUserName(b.UserDelete.GetUser())
	case *journalpb.Event_KeyPut:
		return validateKeyPut(b.KeyPut)
	case *journalpb.Event_KeyDelete:
		return validAccessKey(b.KeyDelete.GetAccessKey())
	}
	return nil
}

// Limits of identity names and secrets.
const (
	MaxUserNameBytes  = 64
	MinAccessKeyBytes = 16
	MaxAccessKeyBytes = 128
	MinSecretBytes    = 8
	MaxSecretBytes    = 128
	maxPolicies       = 64
	maxPolicyBytes    = 128
)

// validUserName accepts 1 to 64 characters of [A-Za-z0-9_.@-].
func validUserName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: user name %q %s", ErrInvalidArgument, name, why)
	}
	if len(name) == 0 || len(name) > MaxUserNameBytes {
		return bad(fmt.Sprintf("must be 1 to %d characters long", MaxUserNameBytes))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isASCIIAlnum(c) || c == '_' || c == '.' || c == '@' || c == '-') {
			return bad("may hold only letters, digits and _ . @ -")
		}
	}
	return nil
}

// validAccessKey accepts access key ids as AWS IAM does: 16 to 128
// characters of [A-Za-z0-9_]. They appear in SigV4 credential scopes
// ("AKID/date/region/s3/aws4_request") and query strings, so they hold
// nothing that needs escaping.
func validAccessKey(ak string) error {
	if len(ak) < MinAccessKeyBytes || len(ak) > MaxAccessKeyBytes {
		// The value may be a secret pasted into the wrong field, so errors
		// about access keys never quote it.
		return fmt.Errorf("%w: access key must be %d to %d characters long", ErrInvalidArgument, MinAccessKeyBytes, MaxAccessKeyBytes)
	}
	for i := 0; i < len(ak); i++ {
		if c := ak[i]; !(isASCIIAlnum(c) || c == '_') {
			return fmt.Errorf("%w: access key may hold only letters, digits and _", ErrInvalidArgument)
		}
	}
	return nil
}

// validSecret accepts 8 to 128 printable ASCII characters without spaces.
// INVARIANT: the error never holds the secret or any part of it.
func validSecret(secret string) error {
	if len(secret) < MinSecretBytes || len(secret) > MaxSecretBytes {
		return fmt.Errorf("%w: secret key must be %d to %d characters long", ErrInvalidArgument, MinSecretBytes, MaxSecretBytes)
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("%w: secret key may hold only printable ASCII characters without spaces", ErrInvalidArgument)
		}
	}
	return nil
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func validateUserPut(u *journalpb.UserPut) error {
	if err := validUserName(u.GetUser()); err != nil {
		return err
	}
	if u.GetUser() == RootUser && !u.GetAdmin() {
		return fmt.Errorf("%w: user %s must be an administrator", ErrInvalidArgument, RootUser)
	}
	if len(u.GetPolicies()) > maxPolicies {
		return fmt.Errorf("%w: user %s has %d policies, more than %d", ErrInvalidArgument, u.GetUser(), len(u.GetPolicies()), maxPolicies)
	}
	for _, p := range u.GetPolicies() {
		if p == "" || len(p) > maxPolicyBytes || strings.ContainsFunc(p, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return fmt.Errorf("%w: user %s: policy name %q must be 1 to %d printable characters", ErrInvalidArgument, u.GetUser(), p, maxPolicyBytes)
		}
	}
	if k := u.GetInitialKey(); k != nil {
		if k.GetUser() != u.GetUser() {
			return fmt.Errorf("%w: user %s: initial access key names user %q", ErrInvalidArgument, u.GetUser(), k.GetUser())
		}
		return validateKeyPut(k)
	}
	return nil
}

func validateKeyPut(k *journalpb.KeyPut) error {
	if err := validUserName(k.GetUser()); err != nil {
		return err
	}
	if err := validAccessKey(k.GetAccessKey()); err != nil {
		return err
	}
	return validSecret(k.GetSecret())
}

func validObjectName(bucket, key string) error {
	if err := validBucketName(bucket); err != nil {
		return err
	}
	return validKey(key)
}

func validateObjectPut(p *journalpb.ObjectPut) error {
	if err := validObjectName(p.GetBucket(), p.GetKey()); err != nil {
		return err
	}
	if err := validTags(p.GetTags()); err != nil {
		return err
	}
	if err := validLock(p.GetLock()); err != nil {
		return err
	}
	if len(p.GetParts()) == 0 {
		return validatePayload(p.GetSize(), p.GetInlineData(), p.GetManifest())
	}
	if len(p.GetInlineData()) != 0 || p.GetManifest() != nil {
		return fmt.Errorf("%w: a multipart object has its payload in its parts", ErrInvalidArgument)
	}
	var total int64
	for _, part := range p.GetParts() {
		if err := validatePart(part); err != nil {
			return err
		}
		total += part.GetSize()
	}
	if total != p.GetSize() {
		return fmt.Errorf("%w: parts hold %d bytes for an object of %d", ErrInvalidArgument, total, p.GetSize())
	}
	return nil
}

func validatePart(p *journalpb.Part) error {
	if p == nil {
		return fmt.Errorf("%w: part missing", ErrInvalidArgument)
	}
	if len(p.GetMd5()) != 16 {
		return fmt.Errorf("%w: part %d has an MD5 of %d bytes", ErrInvalidArgument, p.GetNumber(), len(p.GetMd5()))
	}
	return validatePayload(p.GetSize(), p.GetInlineData(), p.GetManifest())
}

// validatePayload checks that a payload of size bytes is either inline or
// described by m.
func validatePayload(size int64, inline []byte, m *journalpb.Manifest) error {
	if size < 0 {
		return fmt.Errorf("%w: negative size", ErrInvalidArgument)
	}
	if m == nil {
		if int64(len(inline)) != size {
			return fmt.Errorf("%w: inline data of %d bytes for size %d", ErrInvalidArgument, len(inline), size)
		}
		return nil
	}
	if len(inline) != 0 {
		return fmt.Errorf("%w: payload has both inline data and a manifest", ErrInvalidArgument)
	}
	return validateManifest(m, size)
}

func validateManifest(m *journalpb.Manifest, size int64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: manifest: "+format, append([]any{ErrInvalidArgument}, args...)...)
	}
	k, par := int(m.GetDataShards()), int(m.GetParityShards())
	if k <= 0 || par < 0 || k+par > 256 {
		return bad("profile %d+%d", k, par)
	}
	if len(m.GetLocations()) != k+par {
		return bad("%d locations for %d shards", len(m.GetLocations()), k+par)
	}
	var total int64
	for i, st := range m.GetStripes() {
		if len(st.GetShardIds()) != k+par {
			return bad("stripe %d has %d shard ids, want %d", i, len(st.GetShardIds()), k+par)
		}
		for _, id := range st.GetShardIds() {
			if len(id) != 32 {
				return bad("stripe %d has a shard id of %d bytes", i, len(id))
			}
		}
		if st.GetDataLen() > m.GetStripeSize() {
			return bad("stripe %d holds %d bytes, more than the stripe size %d", i, st.GetDataLen(), m.GetStripeSize())
		}
		total += int64(st.GetDataLen())
	}
	if total != size {
		return bad("stripes hold %d bytes for an object of %d", total, size)
	}
	return nil
}

// checkProposable rejects, before anything is proposed, events this
// version can shape-check but not apply yet (volumes, snapshots, role
// changes arrive with later releases). Apply treats such a committed event
// as fatal rather than skip it, so refusing it here keeps it out of the log.
func checkProposable(ev *journalpb.Event) error {
	if err := validateEvent(ev); err != nil {
		return err
	}
	switch ev.GetKind() {
	case journalpb.Kind_VOLUME_WRITE, journalpb.Kind_VOLUME_TRIM, journalpb.Kind_SNAPSHOT_CREATE, journalpb.Kind_ROLE_CHANGE:
		return fmt.Errorf("%w: event kind %v is not supported by this version", ErrInvalidArgument, ev.GetKind())
	}
	// Fields reserved for later versions: apply stores them as they are (so
	// a newer proposer's events apply here the same way), but this version
	// does not propose what it would not enforce.
	if len(ev.GetUserPut().GetPolicies()) > 0 {
		return fmt.Errorf("%w: user policies are not supported by this version", ErrInvalidArgument)
	}
	if len(ev.GetKeyPut().GetSealedSecret()) > 0 || len(ev.GetUserPut().GetInitialKey().GetSealedSecret()) > 0 {
		return fmt.Errorf("%w: sealed secrets are not supported by this version", ErrInvalidArgument)
	}
	return nil
}
