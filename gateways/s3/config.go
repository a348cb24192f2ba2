package s3

import (
	"errors"
	"io"
	"net/http"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/journal/journalpb"
	"github.com/ferrydr/ferry/raftstore"
)

// Bucket configurations (versioning, object lock, lifecycle, tagging) and
// the object subresources (tagging, retention, legal hold). Each change is
// one journal event; the state machine enforces the rules that must hold
// at commit (versioning cannot be unset, object lock cannot be disabled,
// COMPLIANCE retention cannot be shortened).

// readBody parses a request's XML body with parse, then reads the body to
// its end so its digests are checked before anything is committed.
func readBody[T any](g *Gateway, q *request, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	body, err := g.checkedBody(q)
	if err != nil {
		return zero, err
	}
	v, err := parse(body)
	if err != nil {
		return zero, err
	}
	if err := drain(body); err != nil {
		return zero, err
	}
	return v, nil
}

func (g *Gateway) getBucketVersioning(q *request) error {
	doc, err := g.node.BucketConfig(q.r.Context(), q.bucket, raftstore.ConfigVersioning)
	if err != nil {
		return err
	}
	return writeXML(q, s3api.VersioningConfiguration{Status: s3api.VersioningStatus(doc)})
}

func (g *Gateway) putBucketVersioning(q *request) error {
	c, err := readBody(g, q, s3api.ParseVersioningConfiguration)
	if err != nil {
		return err
	}
	err = g.node.SetBucketConfig(q.r.Context(), q.bucket, raftstore.ConfigVersioning, []byte(c.Status), q.principal)
	if errors.Is(err, raftstore.ErrInvalidArgument) {
		return s3err.ErrInvalidBucketState.With("%v", err).Wrap(err)
	}
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// bucketLock returns a bucket's object lock configuration (zero when it
// has none).
func (g *Gateway) bucketLock(q *request, bucket string) (*journalpb.BucketObjectLock, error) {
	doc, err := g.node.BucketConfig(q.r.Context(), bucket, raftstore.ConfigObjectLock)
	if err != nil {
		return nil, err
	}
	l := &journalpb.BucketObjectLock{}
	if err := proto.Unmarshal(doc, l); err != nil {
		return nil, err
	}
	return l, nil
}

func (g *Gateway) getObjectLockConfig(q *request) error {
	l, err := g.bucketLock(q, q.bucket)
	if err != nil {
		return err
	}
	if !l.GetEnabled() {
		return s3err.ErrNoSuchObjectLockConfiguration
	}
	c := s3api.ObjectLockConfiguration{ObjectLockEnabled: s3api.ObjectLockEnabled}
	if l.GetDefaultMode() != "" {
		d := &s3api.DefaultRetention{Mode: s3api.RetentionMode(l.GetDefaultMode())}
		if n := int(l.GetDefaultDays()); n > 0 {
			d.Days = &n
		} else {
			n := int(l.GetDefaultYears())
			d.Years = &n
		}
		c.Rule = &s3api.ObjectLockRule{DefaultRetention: d}
	}
	return writeXML(q, c)
}

func (g *Gateway) putObjectLockConfig(q *request) error {
	c, err := readBody(g, q, s3api.ParseObjectLockConfiguration)
	if err != nil {
		return err
	}
	return g.setObjectLock(q, c)
}

func (g *Gateway) setObjectLock(q *request, c s3api.ObjectLockConfiguration) error {
	l := &journalpb.BucketObjectLock{Enabled: true}
	if c.Rule != nil && c.Rule.DefaultRetention != nil {
		d := c.Rule.DefaultRetention
		l.DefaultMode = string(d.Mode)
		if d.Days != nil {
			l.DefaultDays = uint32(*d.Days)
		}
		if d.Years != nil {
			l.DefaultYears = uint32(*d.Years)
		}
	}
	doc, err := proto.Marshal(l)
	if err != nil {
		return err
	}
	err = g.node.SetBucketConfig(q.r.Context(), q.bucket, raftstore.ConfigObjectLock, doc, q.principal)
	if errors.Is(err, raftstore.ErrInvalidArgument) {
		return s3err.ErrInvalidBucketState.With("%v", err).Wrap(err)
	}
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// The lifecycle and tagging documents are kept as the XML the client
// sent, after validation; the lifecycle worker parses them again.

func (g *Gateway) getLifecycle(q *request) error {
	return g.getXMLConfig(q, raftstore.ConfigLifecycle, s3err.ErrNoSuchLifecycleConfiguration)
}

func (g *Gateway) putLifecycle(q *request) error {
	c, err := readBody(g, q, s3api.ParseLifecycleConfiguration)
	if err != nil {
		return err
	}
	return g.putXMLConfig(q, raftstore.ConfigLifecycle, c)
}

func (g *Gateway) deleteLifecycle(q *request) error {
	return g.deleteConfig(q, raftstore.ConfigLifecycle)
}

func (g *Gateway) getBucketTagging(q *request) error {
	return g.getXMLConfig(q, raftstore.ConfigTagging, s3err.ErrNoSuchTagSet)
}

func (g *Gateway) putBucketTagging(q *request) error {
	t, err := readBody(g, q, s3api.ParseBucketTagging)
	if err != nil {
		return err
	}
	return g.putXMLConfig(q, raftstore.ConfigTagging, t)
}

func (g *Gateway) deleteBucketTagging(q *request) error {
	return g.deleteConfig(q, raftstore.ConfigTagging)
}

func (g *Gateway) getXMLConfig(q *request, name string, missing *s3err.Error) error {
	doc, err := g.node.BucketConfig(q.r.Context(), q.bucket, name)
	if err != nil {
		return err
	}
	if doc == nil {
		return missing
	}
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(doc)
	return nil
}

func (g *Gateway) putXMLConfig(q *request, name string, v s3api.Response) error {
	doc, err := s3api.Marshal(v)
	if err != nil {
		return err
	}
	if err := g.node.SetBucketConfig(q.r.Context(), q.bucket, name, doc, q.principal); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (g *Gateway) deleteConfig(q *request, name string) error {
	if err := g.node.SetBucketConfig(q.r.Context(), q.bucket, name, nil, q.principal); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// Object subresources.

func (g *Gateway) getObjectTagging(q *request) error {
	version, err := versionParam(q)
	if err != nil {
		return err
	}
	info, err := g.node.HeadVersion(q.r.Context(), q.bucket, q.key, version)
	if err != nil {
		return markerError(q, info, err)
	}
	setVersionHeader(q.w.Header(), info.GetVersionId())
	var t s3api.Tagging
	for k, v := range info.GetTags() {
		t.TagSet = append(t.TagSet, s3api.Tag{Key: k, Value: v})
	}
	sort.Slice(t.TagSet, func(i, j int) bool { return t.TagSet[i].Key < t.TagSet[j].Key })
	return writeXML(q, t)
}

func (g *Gateway) putObjectTagging(q *request) error {
	t, err := readBody(g, q, s3api.ParseObjectTagging)
	if err != nil {
		return err
	}
	return g.updateObject(q, &journalpb.ObjectUpdate{SetTags: true, Tags: tagsToMap(t.TagSet)}, http.StatusOK)
}

func (g *Gateway) deleteObjectTagging(q *request) error {
	return g.updateObject(q, &journalpb.ObjectUpdate{SetTags: true}, http.StatusNoContent)
}

func (g *Gateway) updateObject(q *request, u *journalpb.ObjectUpdate, status int) error {
	version, err := versionParam(q)
	if err != nil {
		return err
	}
	u.Bucket, u.Key, u.VersionId = q.bucket, q.key, version
	out, err := g.node.UpdateObject(q.r.Context(), u, q.principal)
	if errors.Is(err, raftstore.ErrInvalidArgument) && (u.GetSetRetention() || u.GetSetLegalHold()) {
		return s3err.ErrInvalidRequest.With("%v", err).Wrap(err)
	}
	if err != nil {
		return err
	}
	setVersionHeader(q.w.Header(), out.GetVersionId())
	q.w.WriteHeader(status)
	return nil
}

func (g *Gateway) getObjectRetention(q *request) error {
	version, err := versionParam(q)
	if err != nil {
		return err
	}
	info, err := g.node.HeadVersion(q.r.Context(), q.bucket, q.key, version)
	if err != nil {
		return markerError(q, info, err)
	}
	l := info.GetLock()
	if l.GetMode() == "" {
		return s3err.ErrNoSuchObjectLockConfiguration.With("The specified object does not have a ObjectLock configuration.")
	}
	until := s3api.Timestamp(time.Unix(0, l.GetRetainUntilNanos()).UTC())
	return writeXML(q, s3api.Retention{Mode: s3api.RetentionMode(l.GetMode()), RetainUntilDate: &until})
}

func (g *Gateway) putObjectRetention(q *request) error {
	r, err := readBody(g, q, s3api.ParseRetention)
	if err != nil {
		return err
	}
	bypass, err := g.bypass(q)
	if err != nil {
		return err
	}
	u := &journalpb.ObjectUpdate{SetRetention: true, Retention: &journalpb.ObjectLock{Mode: string(r.Mode)}, BypassGovernance: bypass}
	if r.RetainUntilDate != nil {
		u.Retention.RetainUntilNanos = time.Time(*r.RetainUntilDate).UnixNano()
	}
	return g.updateObject(q, u, http.StatusOK)
}

func (g *Gateway) getObjectLegalHold(q *request) error {
	version, err := versionParam(q)
	if err != nil {
		return err
	}
	info, err := g.node.HeadVersion(q.r.Context(), q.bucket, q.key, version)
	if err != nil {
		return markerError(q, info, err)
	}
	bl, err := g.bucketLock(q, q.bucket)
	if err != nil {
		return err
	}
	if !bl.GetEnabled() {
		return s3err.ErrInvalidRequest.With("Bucket is missing Object Lock Configuration.")
	}
	status := s3api.LegalHoldOff
	if info.GetLock().GetLegalHold() {
		status = s3api.LegalHoldOn
	}
	return writeXML(q, s3api.LegalHold{Status: status})
}

func (g *Gateway) putObjectLegalHold(q *request) error {
	h, err := readBody(g, q, s3api.ParseLegalHold)
	if err != nil {
		return err
	}
	return g.updateObject(q, &journalpb.ObjectUpdate{SetLegalHold: true, LegalHold: h.Status == s3api.LegalHoldOn}, http.StatusOK)
}
