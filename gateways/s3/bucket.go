package s3

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/journal/journalpb"
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
	lockHeader := strings.ToLower(strings.TrimSpace(q.r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled")))
	if lockHeader != "" && lockHeader != "true" && lockHeader != "false" {
		return s3err.ErrInvalidArgument.With("x-amz-bucket-object-lock-enabled must be true or false.")
	}
	if err := g.node.CreateBucket(q.r.Context(), q.bucket, q.principal); err != nil {
		return err
	}
	if lockHeader == "true" {
		// Object lock needs versioning; both are set right after the
		// bucket is created (three events: a failure in between leaves a
		// bucket the client can configure again with the same requests).
		ctx := q.r.Context()
		if err := g.node.SetBucketConfig(ctx, q.bucket, raftstore.ConfigVersioning, []byte(raftstore.VersioningEnabled), q.principal); err != nil {
			return err
		}
		doc, err := proto.Marshal(&journalpb.BucketObjectLock{Enabled: true})
		if err != nil {
			return err
		}
		if err := g.node.SetBucketConfig(ctx, q.bucket, raftstore.ConfigObjectLock, doc, q.principal); err != nil {
			return err
		}
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// bucketExists returns nil or an error wrapping raftstore.ErrNoSuchBucket.
func (g *Gateway) bucketExists(q *request) error {
	_, err := g.node.BucketConfig(q.r.Context(), q.bucket, raftstore.ConfigVersioning)
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
	bypass, err := g.bypass(q)
	if err != nil {
		return err
	}
	var res s3api.DeleteResult
	for _, o := range d.Objects {
		if err := s3api.ValidObjectKey(o.Key); err != nil {
			res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, err))
			continue
		}
		req := raftstore.DeleteRequest{Bucket: q.bucket, Key: o.Key, VersionID: o.VersionID, BypassGovernance: bypass, Principal: q.principal}
		if o.ETag != "" {
			m, ok := md5FromETag(string(o.ETag))
			if !ok {
				res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, s3err.ErrPreconditionFailed))
				continue
			}
			req.IfMatchMD5 = m
		}
		out, err := g.node.DeleteVersion(q.r.Context(), req)
		switch {
		case errors.Is(err, raftstore.ErrNoSuchKey), errors.Is(err, raftstore.ErrNoSuchVersion):
			out = nil
		case err != nil:
			res.Errors = append(res.Errors, s3api.NewDeleteError(o.Key, o.VersionID, toS3(err)))
			continue
		}
		if !d.Quiet {
			del := s3api.DeletedObject{Key: o.Key, VersionID: o.VersionID}
			if out.GetDeleteMarker() {
				del.DeleteMarker = true
				if o.VersionID == "" {
					del.DeleteMarkerVersionID = out.GetVersionId()
				}
			}
			res.Deleted = append(res.Deleted, del)
		}
	}
	return writeXML(q, res)
}
