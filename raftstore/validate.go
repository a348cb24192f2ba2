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
		if err := validBucketName(b.ObjectDelete.GetBucket()); err != nil {
			return err
		}
		return validKey(b.ObjectDelete.GetKey())
	case *journalpb.Event_BucketCreate:
		return validBucketName(b.BucketCreate.GetBucket())
	case *journalpb.Event_BucketDelete:
		return validBucketName(b.BucketDelete.GetBucket())
	}
	return nil
}

func validateObjectPut(p *journalpb.ObjectPut) error {
	if err := validBucketName(p.GetBucket()); err != nil {
		return err
	}
	if err := validKey(p.GetKey()); err != nil {
		return err
	}
	if p.GetSize() < 0 {
		return fmt.Errorf("%w: negative size", ErrInvalidArgument)
	}
	m := p.GetManifest()
	if m == nil {
		if int64(len(p.GetInlineData())) != p.GetSize() {
			return fmt.Errorf("%w: inline data of %d bytes for size %d", ErrInvalidArgument, len(p.GetInlineData()), p.GetSize())
		}
		return nil
	}
	if len(p.GetInlineData()) != 0 {
		return fmt.Errorf("%w: object has both inline data and a manifest", ErrInvalidArgument)
	}
	return validateManifest(m, p.GetSize())
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
	return nil
}
