package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/raftstore"
	"github.com/ferrydr/ferry/raftstore/nodepb"
)

// The lifecycle worker executes buckets' lifecycle rules: it expires
// current versions, removes expired delete markers and noncurrent
// versions, and aborts stale multipart uploads. It runs on every node and
// acts only while its node leads, and every action it takes is an
// ordinary event through the journal (principal "lifecycle"), guarded by
// a precondition where the object could change under it, so it needs no
// state of its own: a pass that a leader change cuts short is finished by
// the next leader's pass.

// LifecyclePrincipal is the principal of the events the worker proposes.
const LifecyclePrincipal = "lifecycle"

// LifecycleConfig configures the worker.
type LifecycleConfig struct {
	// Interval between passes. Default: 1h.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Lifecycle is the worker of one node.
type Lifecycle struct {
	node *raftstore.Node
	cfg  LifecycleConfig
	log  *slog.Logger
}

// NewLifecycle returns the worker of node.
func NewLifecycle(node *raftstore.Node, cfg LifecycleConfig) *Lifecycle {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Lifecycle{node: node, cfg: cfg, log: cfg.Logger}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l
}

// Run runs passes every Interval, while the node leads, until ctx ends.
func (l *Lifecycle) Run(ctx context.Context) {
	t := time.NewTicker(l.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !l.node.IsLeader() {
			continue
		}
		rep, err := l.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			l.log.Warn("lifecycle pass failed", "err", err, "report", rep)
		case rep != (LifecycleReport{}):
			l.log.Info("lifecycle pass", "report", rep)
		}
	}
}

// LifecycleReport counts what a pass did.
type LifecycleReport struct {
	Expired, MarkersRemoved, NoncurrentRemoved, UploadsAborted int
	// Skipped counts actions refused at commit (object lock, or the
	// object changed meanwhile).
	Skipped int
}

// RunOnce runs one pass over every bucket.
func (l *Lifecycle) RunOnce(ctx context.Context) (LifecycleReport, error) {
	var rep LifecycleReport
	buckets, err := l.node.ListBuckets(ctx)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, b := range buckets {
		doc, err := l.node.BucketConfig(ctx, b.GetBucket(), raftstore.ConfigLifecycle)
		if errors.Is(err, raftstore.ErrNoSuchBucket) || (err == nil && doc == nil) {
			continue
		}
		if err != nil {
			return rep, err
		}
		c, err := s3api.ParseLifecycleConfiguration(bytes.NewReader(doc))
		if err != nil {
			errs = append(errs, fmt.Errorf("bucket %s: stored lifecycle configuration: %w", b.GetBucket(), err))
			continue
		}
		for _, r := range c.Rules {
			if r.Status != s3api.RuleEnabled {
				continue
			}
			if err := l.applyRule(ctx, b.GetBucket(), r, &rep); err != nil {
				if ctx.Err() != nil {
					return rep, err
				}
				errs = append(errs, fmt.Errorf("bucket %s rule %q: %w", b.GetBucket(), r.ID, err))
			}
		}
	}
	return rep, errors.Join(errs...)
}

// expiry is when an action due days after t takes effect: S3 rounds to
// the next midnight UTC.
func expiry(t time.Time, days int) time.Time {
	d := t.UTC().AddDate(0, 0, days)
	m := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if m.Before(d) {
		m = m.AddDate(0, 0, 1)
	}
	return m
}

// filter is a rule's selection.
type filter struct {
	prefix string
	tags   []s3api.Tag
	gt, lt *int64
}

func ruleFilter(r s3api.LifecycleRule) filter {
	var f filter
	if r.Prefix != nil {
		f.prefix = *r.Prefix
	}
	if x := r.Filter; x != nil {
		switch {
		case x.Prefix != nil:
			f.prefix = *x.Prefix
		case x.Tag != nil:
			f.tags = []s3api.Tag{*x.Tag}
		case x.And != nil:
			if x.And.Prefix != nil {
				f.prefix = *x.And.Prefix
			}
			f.tags, f.gt, f.lt = x.And.Tags, x.And.ObjectSizeGreaterThan, x.And.ObjectSizeLessThan
		}
		if x.ObjectSizeGreaterThan != nil {
			f.gt = x.ObjectSizeGreaterThan
		}
		if x.ObjectSizeLessThan != nil {
			f.lt = x.ObjectSizeLessThan
		}
	}
	return f
}

// matches applies the tag and size predicates (the prefix selects the
// listing).
func (f filter) matches(o *nodepb.ObjectInfo) bool {
	if o.GetDeleteMarker() {
		return len(f.tags) == 0 && f.gt == nil && f.lt == nil
	}
	for _, t := range f.tags {
		if v, ok := o.GetTags()[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return (f.gt == nil || o.GetSize() > *f.gt) && (f.lt == nil || o.GetSize() < *f.lt)
}

func (l *Lifecycle) applyRule(ctx context.Context, bucket string, r s3api.LifecycleRule, rep *LifecycleReport) error {
	now := l.cfg.Now()
	f := ruleFilter(r)
	if a := r.AbortIncompleteMultipartUpload; a != nil && a.DaysAfterInitiation != nil {
		if err := l.abortUploads(ctx, bucket, f.prefix, *a.DaysAfterInitiation, now, rep); err != nil {
			return err
		}
	}
	exp, nc := r.Expiration, r.NoncurrentVersionExpiration
	if exp == nil && nc == nil {
		return nil
	}
	// Walk every version under the prefix, one key at a time.
	var key string
	var versions []*nodepb.ObjectInfo
	flush := func() error {
		if len(versions) == 0 {
			return nil
		}
		err := l.applyToKey(ctx, bucket, versions, f, exp, nc, now, rep)
		versions = versions[:0]
		return err
	}
	keyMarker, versionMarker := "", ""
	for {
		page, more, err := l.node.ListVersions(ctx, bucket, f.prefix, keyMarker, versionMarker, raftstore.MaxListLimit)
		if err != nil {
			return err
		}
		for _, o := range page {
			if o.GetKey() != key {
				if err := flush(); err != nil {
					return err
				}
				key = o.GetKey()
			}
			versions = append(versions, o)
			keyMarker, versionMarker = o.GetKey(), o.GetVersionId()
		}
		if !more {
			return flush()
		}
	}
}

// applyToKey applies a rule's expirations to one key's versions (newest
// first; the first is the current one).
func (l *Lifecycle) applyToKey(ctx context.Context, bucket string, versions []*nodepb.ObjectInfo, f filter,
	exp *s3api.LifecycleExpiration, nc *s3api.NoncurrentVersionExpiration, now time.Time, rep *LifecycleReport) error {
	cur := versions[0]
	mtime := func(o *nodepb.ObjectInfo) time.Time { return time.Unix(0, o.GetMtimeUnixNanos()) }
	// Noncurrent versions: each became noncurrent when the next newer one
	// was written.
	left := len(versions)
	if nc != nil {
		kept := 0
		for i := 1; i < len(versions); i++ {
			o := versions[i]
			if !f.matches(o) {
				continue
			}
			if nc.NewerNoncurrentVersions != nil && kept < *nc.NewerNoncurrentVersions {
				kept++
				continue
			}
			if nc.NoncurrentDays != nil && now.Before(expiry(mtime(versions[i-1]), *nc.NoncurrentDays)) {
				continue
			}
			if l.remove(ctx, raftstore.DeleteRequest{Bucket: bucket, Key: o.GetKey(), VersionID: o.GetVersionId(), Principal: LifecyclePrincipal}, rep) {
				rep.NoncurrentRemoved++
				left--
			}
		}
	}
	if exp == nil || !f.matches(cur) {
		return ctx.Err()
	}
	if cur.GetDeleteMarker() {
		// A delete marker with no versions left under it is expired.
		if exp.ExpiredObjectDeleteMarker != nil && *exp.ExpiredObjectDeleteMarker && left == 1 {
			if l.remove(ctx, raftstore.DeleteRequest{Bucket: bucket, Key: cur.GetKey(), VersionID: cur.GetVersionId(), Principal: LifecyclePrincipal}, rep) {
				rep.MarkersRemoved++
			}
		}
		return ctx.Err()
	}
	due := false
	switch {
	case exp.Days != nil:
		due = !now.Before(expiry(mtime(cur), *exp.Days))
	case exp.Date != nil:
		due = !now.Before(time.Time(*exp.Date))
	}
	if due {
		// The current version expires as a client's DELETE would: gone in
		// an unversioned bucket, behind a delete marker in a versioned one.
		// The ETag guard leaves alone an object rewritten meanwhile.
		if l.remove(ctx, raftstore.DeleteRequest{Bucket: bucket, Key: cur.GetKey(), IfMatchMD5: cur.GetMd5(), Principal: LifecyclePrincipal}, rep) {
			rep.Expired++
		}
	}
	return ctx.Err()
}

// remove proposes a delete; refusals at commit (lock, a changed object, a
// version already gone) are counted, not failures.
func (l *Lifecycle) remove(ctx context.Context, req raftstore.DeleteRequest, rep *LifecycleReport) bool {
	_, err := l.node.DeleteVersion(ctx, req)
	switch {
	case err == nil:
		return true
	case errors.Is(err, raftstore.ErrLocked), errors.Is(err, raftstore.ErrPrecondition),
		errors.Is(err, raftstore.ErrNoSuchKey), errors.Is(err, raftstore.ErrNoSuchVersion):
		rep.Skipped++
	default:
		l.log.Warn("lifecycle delete failed", "bucket", req.Bucket, "key", req.Key, "version", req.VersionID, "err", err)
		rep.Skipped++
	}
	return false
}

func (l *Lifecycle) abortUploads(ctx context.Context, bucket, prefix string, days int, now time.Time, rep *LifecycleReport) error {
	keyMarker, uploadMarker := "", ""
	for {
		ups, more, err := l.node.ListUploads(ctx, bucket, prefix, keyMarker, uploadMarker, raftstore.MaxListLimit)
		if err != nil {
			return err
		}
		for _, u := range ups {
			keyMarker, uploadMarker = u.Key, u.UploadID
			if !strings.HasPrefix(u.Key, prefix) || now.Before(expiry(time.Unix(0, u.InitiatedUnixNanos), days)) {
				continue
			}
			err := l.node.AbortMultipart(ctx, bucket, u.Key, u.UploadID, LifecyclePrincipal)
			switch {
			case err == nil:
				rep.UploadsAborted++
			case errors.Is(err, raftstore.ErrNoSuchUpload):
				rep.Skipped++
			default:
				return err
			}
		}
		if !more {
			return nil
		}
	}
}
