package s3

import (
	"errors"
	"net/http"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/raftstore"
)

func (g *Gateway) owner(q *request) *s3api.Owner {
	return &s3api.Owner{ID: q.principal, DisplayName: q.principal}
}

func (g *Gateway) listBuckets(q *request) error {
	bs, err := g.node.ListBuckets(q.r.Context())
	if err != nil {
		return err
	}
	res := s3api.ListAllMyBucketsResult{Owner: g.owner(q)}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, s3api.BucketInfo{
			Name: b.GetBucket(), CreationDate: s3api.Timestamp(time.Unix(0, b.GetCreatedUnixNanos())), BucketRegion: g.cfg.Region,
		})
	}
	return writeXML(q, res)
}

func (g *Gateway) createBucket(q *request) error {
	c, err := s3api.ParseCreateBucketConfiguration(q.auth.Body)
	if err != nil {
		return err
	}
	if lc := c.LocationConstraint; lc != "" && lc != g.cfg.Region {
		return s3err.ErrInvalidArgument.With("The location constraint %q is not this site's region %q.", lc, g.cfg.Region)
	}
	if err := g.node.CreateBucket(q.r.Context(), q.bucket, q.principal); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// bucketExists returns nil or an error wrapping raftstore.ErrNoSuchBucket.
func (g *Gateway) bucketExists(q *request) error {
	_, _, err := g.node.ListObjects(q.r.Context(), q.bucket, "", "", 1)
	return err
}

func (g *Gateway) headBucket(q *request) error {
	if err := g.bucketExists(q); err != nil {
		return err
	}
	q.w.Header().Set("x-amz-bucket-region", g.cfg.Region)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (g *Gateway) deleteBucket(q *request) error {
	if err := g.node.DeleteBucket(q.r.Context(), q.bucket, q.principal); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (g *Gateway) getBucketLocation(q *request) error {
	if err := g.bucketExists(q); err != nil {
		return err
	}
	region := g.cfg.Region
	if region == "us-east-1" {
		region = "" // S3 answers an empty constraint for us-east-1
	}
	return writeXML(q, s3api.LocationConstraint{Region: region})
}

func (g *Gateway) getBucketVersioning(q *request) error {
	if err := g.bucketExists(q); err != nil {
		return err
	}
	return writeXML(q, s3api.VersioningConfiguration{})
}

// deleteObjects is DeleteObjects: each key is deleted on its own (one event
// each); a key that does not exist counts as deleted, as in S3.
func (g *Gateway) deleteObjects(q *request) error {
	if q.r.Header.Get("Content-MD5") == "" && q.r.Header.Get("X-Amz-Checksum-Crc32") == "" &&
		q.r.Header.Get("X-Amz-Sdk-Checksum-Algorithm") == "" && q.r.Header.Get("X-Amz-Trailer") == "" {
		return s3err.ErrInvalidRequest.With("Missing required header for this request: Content-MD5 or a checksum.")
	}
	body, err := g.checkedBody(q)
	if err != nil {
		return err
	}
	d, err := s3api.ParseDelete(body)
	if err != nil {
		return err
	}
	if err := drain(body); err != nil {
		return err
	}
	if err := g.bucketExists(q); err != nil {
		return err
	}
	var res s3api.DeleteResult
	for _, o := range d.Objects {
		switch {
		case s3api.ValidObjectKey(o.Key) != nil:
			res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, s3api.ValidObjectKey(o.Key)))
			continue
		case o.VersionID != "" && o.VersionID != "null":
			res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, s3err.ErrNoSuchVersion))
			continue
		}
		var ifMatch []byte
		if o.ETag != "" {
			m, ok := md5FromETag(string(o.ETag))
			if !ok {
				res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, s3err.ErrPreconditionFailed))
				continue
			}
			ifMatch = m
		}
		_, err := g.node.DeleteObject(q.r.Context(), q.bucket, o.Key, ifMatch, q.principal)
		if err != nil && !errors.Is(err, raftstore.ErrNoSuchKey) {
			res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, toS3(err)))
			continue
		}
		if !d.Quiet {
			res.Deleted = append(res.Deleted, s3api.DeletedObject{Key: o.Key, VersionID: o.VersionID})
		}
	}
	return writeXML(q, res)
}
