package s3

import (
	"strings"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/raftstore"
)

// listing is one page of a (possibly delimited) listing.
type listing struct {
	objects   []s3api.Object
	prefixes  []s3api.CommonPrefix
	truncated bool
	// last is the last key or common prefix of the page: where the next
	// page resumes.
	last string
}

// skipGroup is the cursor that resumes after a common prefix: no key
// holds byte 0xFF (keys are UTF-8), so every key of the group sorts
// before it.
func skipGroup(cp string) string { return cp + "\xff" }

// resumeAfter turns a marker or continuation key into the cursor to list
// after: a common prefix returned on the previous page is skipped whole.
func resumeAfter(marker, prefix, delimiter string) string {
	if delimiter != "" && strings.HasPrefix(marker, prefix) && strings.Contains(marker[len(prefix):], delimiter) &&
		strings.HasSuffix(marker, delimiter) {
		return skipGroup(marker)
	}
	return marker
}

// list reads up to maxKeys entries of bucket under prefix after cursor,
// rolling keys up at delimiter.
func (g *Gateway) list(q *request, prefix, delimiter, cursor string, maxKeys int, owner bool) (listing, error) {
	var l listing
	if maxKeys == 0 {
		// S3 answers an empty, untruncated page, after checking the bucket.
		return l, g.bucketExists(q)
	}
	count := 0
	for {
		batch, more, err := g.node.ListObjects(q.r.Context(), q.bucket, prefix, cursor, raftstore.MaxListLimit)
		if err != nil {
			return listing{}, err
		}
		regroup := false
		for _, o := range batch {
			key := o.GetKey()
			if delimiter != "" {
				if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
					cp := key[:len(prefix)+i+len(delimiter)]
					if count == maxKeys {
						l.truncated = true
						return l, nil
					}
					l.prefixes = append(l.prefixes, s3api.CommonPrefix{Prefix: cp})
					count++
					l.last, cursor = cp, skipGroup(cp)
					regroup = true
					break
				}
			}
			if count == maxKeys {
				l.truncated = true
				return l, nil
			}
			obj := s3api.Object{
				Key: key, LastModified: s3api.Timestamp(time.Unix(0, o.GetMtimeUnixNanos())), ETag: s3api.ETag(etagOf(o)),
				Size: o.GetSize(), StorageClass: s3api.StorageStandard,
			}
			if sc := o.GetMetadata()["X-Amz-Storage-Class"]; sc != "" {
				obj.StorageClass = s3api.StorageClass(sc)
			}
			if owner {
				obj.Owner = g.owner(q)
			}
			l.objects = append(l.objects, obj)
			count++
			l.last, cursor = key, key
		}
		if !regroup && !more {
			return l, nil
		}
	}
}

func (g *Gateway) listObjectsV1(q *request) error {
	enc, err := s3api.ParseEncodingType(q.query.Get("encoding-type"))
	if err != nil {
		return err
	}
	maxKeys, err := s3api.ParseMaxKeys(q.query.Get("max-keys"))
	if err != nil {
		return err
	}
	prefix, delimiter, marker := q.query.Get("prefix"), q.query.Get("delimiter"), q.query.Get("marker")
	l, err := g.list(q, prefix, delimiter, resumeAfter(marker, prefix, delimiter), maxKeys, true)
	if err != nil {
		return err
	}
	res := s3api.ListBucketResult{
		Name: q.bucket, Prefix: prefix, Marker: marker, MaxKeys: maxKeys, Delimiter: delimiter, EncodingType: enc,
		IsTruncated: l.truncated, Contents: l.objects, CommonPrefixes: l.prefixes,
	}
	if l.truncated && delimiter != "" {
		res.NextMarker = l.last
	}
	return writeXML(q, res)
}

func (g *Gateway) listObjectsV2(q *request) error {
	enc, err := s3api.ParseEncodingType(q.query.Get("encoding-type"))
	if err != nil {
		return err
	}
	maxKeys, err := s3api.ParseMaxKeys(q.query.Get("max-keys"))
	if err != nil {
		return err
	}
	prefix, delimiter := q.query.Get("prefix"), q.query.Get("delimiter")
	token, startAfter := q.query.Get("continuation-token"), q.query.Get("start-after")
	cursor := startAfter
	if q.query.Has("continuation-token") {
		key, _, err := s3api.DecodeContinuationToken(token)
		if err != nil {
			return err
		}
		if key == "" {
			return s3err.ErrInvalidArgument.With("The continuation token provided is incorrect.")
		}
		cursor = resumeAfter(key, prefix, delimiter)
	}
	l, err := g.list(q, prefix, delimiter, cursor, maxKeys, q.query.Get("fetch-owner") == "true")
	if err != nil {
		return err
	}
	res := s3api.ListBucketResultV2{
		Name: q.bucket, Prefix: prefix, ContinuationToken: token, StartAfter: startAfter, MaxKeys: maxKeys,
		Delimiter: delimiter, EncodingType: enc, IsTruncated: l.truncated, Contents: l.objects, CommonPrefixes: l.prefixes,
	}
	if l.truncated {
		res.NextContinuationToken = s3api.EncodeContinuationToken(l.last, "")
	}
	return writeXML(q, res)
}

// listObjectVersions is ListObjectVersions: every version and delete
// marker, by key and newest first, rolled up at the delimiter.
func (g *Gateway) listObjectVersions(q *request) error {
	enc, err := s3api.ParseEncodingType(q.query.Get("encoding-type"))
	if err != nil {
		return err
	}
	maxKeys, err := s3api.ParseMaxKeys(q.query.Get("max-keys"))
	if err != nil {
		return err
	}
	prefix, delimiter := q.query.Get("prefix"), q.query.Get("delimiter")
	keyMarker, versionMarker := q.query.Get("key-marker"), q.query.Get("version-id-marker")
	if versionMarker != "" && keyMarker == "" {
		return s3err.ErrInvalidArgument.With("A version-id marker cannot be specified without a key marker.")
	}
	res := s3api.ListVersionsResult{
		Name: q.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIDMarker: versionMarker, MaxKeys: maxKeys,
		Delimiter: delimiter, EncodingType: enc,
	}
	if maxKeys == 0 {
		if err := g.bucketExists(q); err != nil {
			return err
		}
		return writeXML(q, res)
	}
	cursorKey, cursorVersion := resumeAfter(keyMarker, prefix, delimiter), versionMarker
	count := 0
	var lastKey, lastVersion string
	for {
		batch, more, err := g.node.ListVersions(q.r.Context(), q.bucket, prefix, cursorKey, cursorVersion, raftstore.MaxListLimit)
		if err != nil {
			return err
		}
		regroup := false
		for _, o := range batch {
			key := o.GetKey()
			if count == maxKeys {
				res.IsTruncated = true
				res.NextKeyMarker, res.NextVersionIDMarker = lastKey, lastVersion
				return writeXML(q, res)
			}
			if delimiter != "" {
				if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
					cp := key[:len(prefix)+i+len(delimiter)]
					res.CommonPrefixes = append(res.CommonPrefixes, s3api.CommonPrefix{Prefix: cp})
					count++
					lastKey, lastVersion = cp, ""
					cursorKey, cursorVersion = skipGroup(cp), ""
					regroup = true
					break
				}
			}
			v := s3api.ObjectVersion{
				IsDeleteMarker: o.GetDeleteMarker(), Key: key, VersionID: o.GetVersionId(), IsLatest: o.GetIsLatest(),
				LastModified: s3api.Timestamp(time.Unix(0, o.GetMtimeUnixNanos())), Owner: g.owner(q),
			}
			if !o.GetDeleteMarker() {
				v.ETag, v.Size, v.StorageClass = s3api.ETag(etagOf(o)), o.GetSize(), s3api.StorageStandard
			}
			res.Versions = append(res.Versions, v)
			count++
			lastKey, lastVersion = key, o.GetVersionId()
			cursorKey, cursorVersion = key, o.GetVersionId()
		}
		if !regroup && !more {
			return writeXML(q, res)
		}
	}
}
