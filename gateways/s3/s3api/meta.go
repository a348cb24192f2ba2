package s3api

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// StorageClass is an S3 storage class. Ferry stores every class alike; the
// class is kept and reported so clients see what they set.
type StorageClass string

// The storage classes ferry accepts: S3's classes that serve reads at once.
// The archive classes (GLACIER, DEEP_ARCHIVE) need a restore step ferry does
// not have, and the placement classes (OUTPOSTS, SNOW, EXPRESS_ONEZONE,
// FSX_OPENZFS) do not apply; they are InvalidStorageClass.
const (
	StorageStandard           StorageClass = "STANDARD"
	StorageReducedRedundancy  StorageClass = "REDUCED_REDUNDANCY"
	StorageStandardIA         StorageClass = "STANDARD_IA"
	StorageOneZoneIA          StorageClass = "ONEZONE_IA"
	StorageIntelligentTiering StorageClass = "INTELLIGENT_TIERING"
	StorageGlacierIR          StorageClass = "GLACIER_IR"
)

// ParseStorageClass parses x-amz-storage-class: empty is STANDARD; the
// classes above are accepted; anything else is InvalidStorageClass.
func ParseStorageClass(v string) (StorageClass, error) {
	switch c := StorageClass(v); c {
	case "":
		return StorageStandard, nil
	case StorageStandard, StorageReducedRedundancy, StorageStandardIA, StorageOneZoneIA,
		StorageIntelligentTiering, StorageGlacierIR:
		return c, nil
	case "GLACIER", "DEEP_ARCHIVE":
		return "", s3err.ErrInvalidStorageClass.With("The storage class %s is not supported: ferry has no archive tier.", v)
	}
	return "", s3err.ErrInvalidStorageClass.With("The storage class you specified is not valid: %q.", v)
}

// Metadata limits.
const (
	// MaxUserMetadataSize bounds the user metadata of an object: the sum of
	// the bytes of every name (without "x-amz-meta-") and value, as S3
	// measures it.
	MaxUserMetadataSize = 2048
	// MaxWebsiteRedirectLength bounds x-amz-website-redirect-location.
	MaxWebsiteRedirectLength = 2048
	// DefaultContentType is the Content-Type S3 reports for an object stored
	// without one.
	DefaultContentType = "binary/octet-stream"

	userMetaPrefix = "x-amz-meta-"
)

// ObjectMeta is the metadata stored with an object from its PUT (or
// CreateMultipartUpload, or CopyObject with REPLACE) headers and written
// back on GET and HEAD.
type ObjectMeta struct {
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	// Expires is kept as sent; S3 does not validate it.
	Expires      string
	StorageClass StorageClass
	// WebsiteRedirectLocation is x-amz-website-redirect-location.
	WebsiteRedirectLocation string
	// User holds the x-amz-meta-* headers by lowercased name without the
	// prefix. Repeated headers are joined with ",".
	User map[string]string
}

// ParseObjectMeta reads the stored headers of h. User metadata larger than
// MaxUserMetadataSize is MetadataTooLarge; an empty user metadata name and
// a redirect location not starting with "/", "http://" or "https://" (or
// longer than 2 KiB) are InvalidArgument; an unknown storage class is
// InvalidStorageClass.
func ParseObjectMeta(h http.Header) (ObjectMeta, error) {
	m := ObjectMeta{
		ContentType:             h.Get("Content-Type"),
		ContentEncoding:         h.Get("Content-Encoding"),
		ContentDisposition:      h.Get("Content-Disposition"),
		ContentLanguage:         h.Get("Content-Language"),
		CacheControl:            h.Get("Cache-Control"),
		Expires:                 h.Get("Expires"),
		WebsiteRedirectLocation: h.Get("X-Amz-Website-Redirect-Location"),
	}
	sc, err := ParseStorageClass(h.Get("X-Amz-Storage-Class"))
	if err != nil {
		return ObjectMeta{}, err
	}
	m.StorageClass = sc
	if r := m.WebsiteRedirectLocation; r != "" {
		if len(r) > MaxWebsiteRedirectLength || !(strings.HasPrefix(r, "/") || strings.HasPrefix(r, "http://") || strings.HasPrefix(r, "https://")) {
			return ObjectMeta{}, s3err.ErrInvalidArgument.With("The website redirect location must have a prefix of 'http://' or 'https://' or '/' and be at most %d bytes.", MaxWebsiteRedirectLength)
		}
	}
	// Header names are sorted so that the same name in two spellings joins
	// in a fixed order.
	var metaNames []string
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), userMetaPrefix) {
			metaNames = append(metaNames, name)
		}
	}
	sort.Strings(metaNames)
	size := 0
	for _, name := range metaNames {
		vs := h[name]
		key := strings.ToLower(name)[len(userMetaPrefix):]
		if key == "" {
			return ObjectMeta{}, s3err.ErrInvalidArgument.With("A user metadata header must have a name after x-amz-meta-.")
		}
		if m.User == nil {
			m.User = make(map[string]string)
		}
		v := strings.Join(vs, ",")
		if prev, dup := m.User[key]; dup {
			// The same name in two spellings of the header key.
			size -= len(key) + len(prev)
			v = prev + "," + v
		}
		m.User[key] = v
		size += len(key) + len(v)
	}
	if size > MaxUserMetadataSize {
		return ObjectMeta{}, s3err.ErrMetadataTooLarge.With("Your metadata headers exceed the maximum allowed metadata size: %d bytes, the limit is %d.", size, MaxUserMetadataSize)
	}
	return m, nil
}

// WriteHeaders sets the response headers of GetObject and HeadObject from
// m. Content-Type defaults to DefaultContentType, as S3 answers (and so
// that net/http does not sniff one); the storage class header is omitted
// for STANDARD, as S3 omits it. User metadata is written under lowercase
// x-amz-meta-* names, as S3 sends them.
func (m ObjectMeta) WriteHeaders(h http.Header) {
	ct := m.ContentType
	if ct == "" {
		ct = DefaultContentType
	}
	h.Set("Content-Type", ct)
	set := func(name, v string) {
		if v != "" {
			h.Set(name, v)
		}
	}
	set("Content-Encoding", m.ContentEncoding)
	set("Content-Disposition", m.ContentDisposition)
	set("Content-Language", m.ContentLanguage)
	set("Cache-Control", m.CacheControl)
	set("Expires", m.Expires)
	set("X-Amz-Website-Redirect-Location", m.WebsiteRedirectLocation)
	if m.StorageClass != "" && m.StorageClass != StorageStandard {
		h.Set("X-Amz-Storage-Class", string(m.StorageClass))
	}
	names := make([]string, 0, len(m.User))
	for k := range m.User {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		h[userMetaPrefix+k] = []string{m.User[k]}
	}
}

// ApplyResponseOverrides applies GetObject's response-* query parameters
// (response-content-type, -content-language, -expires, -cache-control,
// -content-disposition, -content-encoding) to m, as S3 does for signed
// requests. Call it before WriteHeaders.
func (m *ObjectMeta) ApplyResponseOverrides(q url.Values) {
	for _, o := range []struct {
		param string
		field *string
	}{
		{"response-content-type", &m.ContentType},
		{"response-content-language", &m.ContentLanguage},
		{"response-expires", &m.Expires},
		{"response-cache-control", &m.CacheControl},
		{"response-content-disposition", &m.ContentDisposition},
		{"response-content-encoding", &m.ContentEncoding},
	} {
		if v := q.Get(o.param); v != "" {
			*o.field = v
		}
	}
}
