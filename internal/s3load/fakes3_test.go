package s3load

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// fakeS3 is the minimal path-style S3 server the load tool is tested
// against: HEAD/PUT bucket, PUT/GET object, and multipart create, upload
// part, complete and abort. It checks what a real server would (the
// x-amz-content-sha256 and x-amz-checksum-crc32 headers against the body),
// rejects aws-chunked bodies (the SDK sends them only over TLS), and does
// not check signatures. With discard set it keeps only each part's length
// and SHA-256, so large uploads cost it no memory.
type fakeS3 struct {
	discard bool
	// corrupt, if set, may change a GET body (a copy) before it is sent.
	corrupt func(key string, body []byte)
	// onPutObject, if set, runs after the n-th PutObject (from 1) is stored.
	onPutObject func(n int)
	// onBodyChunk, if set, runs after every read of a request body.
	onBodyChunk func()

	mu struct {
		sync.Mutex
		buckets  map[string]bool
		objects  map[string]*fakeObject // "bucket/key"
		uploads  map[string]*fakeUpload
		nextID   int
		requests map[string]int // "PutObject", "UploadPart", "GetObject", ...
		headers  map[string]int // "crc32", "sha256:UNSIGNED-PAYLOAD", "sha256:hex"
	}
}

type fakePart struct {
	size int64
	sum  [32]byte
	body []byte // nil when discarding
}

type fakeObject struct {
	parts []fakePart // one for PutObject
}

func (o *fakeObject) body() []byte {
	var b []byte
	for _, p := range o.parts {
		b = append(b, p.body...)
	}
	return b
}

type fakeUpload struct {
	bucket, key string
	parts       map[int]fakePart
}

func newFakeS3() *fakeS3 {
	f := &fakeS3{}
	f.mu.buckets = map[string]bool{}
	f.mu.objects = map[string]*fakeObject{}
	f.mu.uploads = map[string]*fakeUpload{}
	f.mu.requests = map[string]int{}
	f.mu.headers = map[string]int{}
	return f
}

func (f *fakeS3) count(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.requests[what]
}

func (f *fakeS3) header(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.headers[what]
}

func (f *fakeS3) object(bucket, key string) (*fakeObject, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.mu.objects[bucket+"/"+key]
	return o, ok
}

func (f *fakeS3) numObjects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mu.objects)
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	var b strings.Builder
	xml.EscapeText(&b, []byte(msg))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, b.String())
}

func writeXML(w http.ResponseWriter, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		s3Error(w, 500, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(append([]byte(xml.Header), b...))
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	switch {
	case key == "" && r.Method == http.MethodHead:
		f.mu.Lock()
		ok := f.mu.buckets[bucket]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
		}
	case key == "" && r.Method == http.MethodPut:
		f.mu.Lock()
		f.mu.buckets[bucket] = true
		f.mu.Unlock()
	case key == "":
		s3Error(w, http.StatusNotImplemented, "NotImplemented", r.Method+" on a bucket")
	case !f.hasBucket(bucket):
		s3Error(w, http.StatusNotFound, "NoSuchBucket", bucket)
	case r.Method == http.MethodPut && q.Has("uploadId"):
		f.uploadPart(w, r, q)
	case r.Method == http.MethodPut:
		f.putObject(w, r, bucket, key)
	case r.Method == http.MethodPost && q.Has("uploads"):
		f.createUpload(w, bucket, key)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		f.completeUpload(w, r, q.Get("uploadId"))
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		f.mu.Lock()
		delete(f.mu.uploads, q.Get("uploadId"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet:
		f.getObject(w, bucket, key)
	default:
		s3Error(w, http.StatusNotImplemented, "NotImplemented", r.Method)
	}
}

func (f *fakeS3) hasBucket(b string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mu.buckets[b]
}

// readBody reads and checks a PUT body. It writes the error response and
// returns false when the body is not acceptable.
func (f *fakeS3) readBody(w http.ResponseWriter, r *http.Request) (fakePart, bool) {
	sha := r.Header.Get("X-Amz-Content-Sha256")
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") || strings.HasPrefix(sha, "STREAMING-") {
		s3Error(w, http.StatusNotImplemented, "NotImplemented", "aws-chunked bodies")
		return fakePart{}, false
	}
	f.mu.Lock()
	switch {
	case sha == "UNSIGNED-PAYLOAD":
		f.mu.headers["sha256:UNSIGNED-PAYLOAD"]++
	case len(sha) == 64:
		f.mu.headers["sha256:hex"]++
	}
	if r.Header.Get("X-Amz-Checksum-Crc32") != "" {
		f.mu.headers["crc32"]++
	}
	f.mu.Unlock()

	h, c := sha256.New(), crc32.NewIEEE()
	var part fakePart
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Body.Read(buf)
		h.Write(buf[:n])
		c.Write(buf[:n])
		part.size += int64(n)
		if !f.discard {
			part.body = append(part.body, buf[:n]...)
		}
		if f.onBodyChunk != nil {
			f.onBodyChunk()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return fakePart{}, false
		}
	}
	h.Sum(part.sum[:0])
	if len(sha) == 64 && sha != hex.EncodeToString(part.sum[:]) {
		s3Error(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "body does not match x-amz-content-sha256")
		return fakePart{}, false
	}
	if want := r.Header.Get("X-Amz-Checksum-Crc32"); want != "" {
		got := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, c.Sum32()))
		if got != want {
			s3Error(w, http.StatusBadRequest, "BadDigest", "body does not match x-amz-checksum-crc32")
			return fakePart{}, false
		}
	}
	if r.ContentLength >= 0 && part.size != r.ContentLength {
		s3Error(w, http.StatusBadRequest, "IncompleteBody", "length differs from Content-Length")
		return fakePart{}, false
	}
	return part, true
}

func (f *fakeS3) putObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	part, ok := f.readBody(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	f.mu.objects[bucket+"/"+key] = &fakeObject{parts: []fakePart{part}}
	f.mu.requests["PutObject"]++
	n := f.mu.requests["PutObject"]
	f.mu.Unlock()
	if f.onPutObject != nil {
		f.onPutObject(n)
	}
	w.Header().Set("ETag", `"`+hex.EncodeToString(part.sum[:16])+`"`)
}

func (f *fakeS3) createUpload(w http.ResponseWriter, bucket, key string) {
	f.mu.Lock()
	f.mu.nextID++
	id := "upload-" + strconv.Itoa(f.mu.nextID)
	f.mu.uploads[id] = &fakeUpload{bucket: bucket, key: key, parts: map[int]fakePart{}}
	f.mu.requests["CreateMultipartUpload"]++
	f.mu.Unlock()
	writeXML(w, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		Bucket   string
		Key      string
		UploadId string
	}{Bucket: bucket, Key: key, UploadId: id})
}

func (f *fakeS3) uploadPart(w http.ResponseWriter, r *http.Request, q url.Values) {
	num, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || num < 1 || num > MaxParts {
		s3Error(w, http.StatusBadRequest, "InvalidArgument", "partNumber")
		return
	}
	part, ok := f.readBody(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	up := f.mu.uploads[q.Get("uploadId")]
	if up == nil {
		s3Error(w, http.StatusNotFound, "NoSuchUpload", q.Get("uploadId"))
		return
	}
	up.parts[num] = part
	f.mu.requests["UploadPart"]++
	w.Header().Set("ETag", `"`+hex.EncodeToString(part.sum[:16])+`"`)
}

func (f *fakeS3) completeUpload(w http.ResponseWriter, r *http.Request, id string) {
	var req struct {
		Parts []struct{ PartNumber int } `xml:"Part"`
	}
	if err := xml.NewDecoder(r.Body).Decode(&req); err != nil {
		s3Error(w, http.StatusBadRequest, "MalformedXML", err.Error())
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	up := f.mu.uploads[id]
	if up == nil {
		s3Error(w, http.StatusNotFound, "NoSuchUpload", id)
		return
	}
	obj := &fakeObject{}
	for i, p := range req.Parts {
		part, ok := up.parts[p.PartNumber]
		if !ok || (i > 0 && p.PartNumber <= req.Parts[i-1].PartNumber) {
			s3Error(w, http.StatusBadRequest, "InvalidPart", strconv.Itoa(p.PartNumber))
			return
		}
		obj.parts = append(obj.parts, part)
	}
	if len(obj.parts) != len(up.parts) {
		s3Error(w, http.StatusBadRequest, "InvalidPart", "not every uploaded part is listed")
		return
	}
	f.mu.objects[up.bucket+"/"+up.key] = obj
	delete(f.mu.uploads, id)
	f.mu.requests["CompleteMultipartUpload"]++
	writeXML(w, struct {
		XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
		Bucket  string
		Key     string
		ETag    string
	}{Bucket: up.bucket, Key: up.key, ETag: `"` + id + `"`})
}

func (f *fakeS3) getObject(w http.ResponseWriter, bucket, key string) {
	f.mu.Lock()
	obj := f.mu.objects[bucket+"/"+key]
	f.mu.requests["GetObject"]++
	f.mu.Unlock()
	if obj == nil {
		s3Error(w, http.StatusNotFound, "NoSuchKey", key)
		return
	}
	if f.discard {
		s3Error(w, http.StatusNotImplemented, "NotImplemented", "GET from a discarding server")
		return
	}
	body := slices.Clone(obj.body())
	if f.corrupt != nil {
		f.corrupt(key, body)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("ETag", `"x"`)
	w.Write(body)
}
