package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ferrydr/ferry/gateways/s3/s3api"
	"github.com/ferrydr/ferry/gateways/s3/s3err"
	"github.com/ferrydr/ferry/gateways/s3/sigv4"
	"github.com/ferrydr/ferry/raftstore"
)

// Config configures the gateway. Start from DefaultConfig.
type Config struct {
	// Addr is the listen address. Default: 127.0.0.1:9000.
	Addr string
	// Region is the region the gateway reports (GetBucketLocation) and
	// signs for. Default: us-east-1.
	Region string
	// Lookup returns the secret and principal of an access key, or an
	// error wrapping raftstore.ErrNotFound. Required.
	Lookup func(ctx context.Context, accessKey string) (secret, principal string, err error)
	// MaxSkew bounds the difference between a request's signing time and
	// the gateway's clock. Default: 15m.
	MaxSkew time.Duration
	// MaxHeaderBytes bounds a request's header section. Default: 64 KiB.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds the time to read a request's headers;
	// IdleTimeout closes idle keep-alive connections. Default: 30s and 2m.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per failed request; nil is silent.
	Logger *slog.Logger
	// MinPartSize is the smallest part but the last that a multipart
	// completion accepts. Default (0): raftstore.MinPartSize, 5 MiB, as S3.
	MinPartSize int64
}

// DefaultConfig returns a Config with every default filled in; Lookup
// remains to be set.
func DefaultConfig() Config {
	return Config{
		Addr: "127.0.0.1:9000", Region: "us-east-1", MaxSkew: 15 * time.Minute,
		MaxHeaderBytes: 64 << 10, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
	}
}

// Validate returns every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("s3: listen address is required"))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("s3: region is required"))
	}
	if c.Lookup == nil {
		errs = append(errs, errors.New("s3: a key lookup is required"))
	}
	if c.MaxSkew <= 0 || c.MaxHeaderBytes < 4<<10 || c.ReadHeaderTimeout <= 0 || c.IdleTimeout <= 0 {
		errs = append(errs, errors.New("s3: skew, header size (>= 4 KiB) and timeouts must be positive"))
	}
	return errors.Join(errs...)
}

// Gateway is the S3 API of one node, as an http.Handler.
type Gateway struct {
	cfg    Config
	node   *raftstore.Node
	verify *sigv4.Verifier
	log    *slog.Logger
	now    func() time.Time
}

// New returns the gateway for node.
func New(node *raftstore.Node, cfg Config) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, node: node, log: cfg.Logger, now: cfg.Now}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	vc := sigv4.DefaultConfig()
	vc.Region, vc.MaxSkew, vc.Now = cfg.Region, cfg.MaxSkew, cfg.Now
	vc.Lookup = func(ak string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		secret, principal, err := cfg.Lookup(ctx, ak)
		if errors.Is(err, raftstore.ErrNotFound) {
			return "", "", s3err.ErrInvalidAccessKeyID
		}
		return secret, principal, err
	}
	v, err := sigv4.New(vc)
	if err != nil {
		return nil, err
	}
	g.verify = v
	return g, nil
}

// request is one request being served.
type request struct {
	w         http.ResponseWriter
	r         *http.Request
	id        string
	bucket    string
	key       string
	query     url.Values
	auth      *sigv4.Result
	principal string
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := &request{w: w, r: r, id: newRequestID(), query: r.URL.Query()}
	w.Header().Set("x-amz-request-id", q.id)
	w.Header().Set("Server", "ferry")
	if err := g.serve(q); err != nil {
		g.fail(q, err)
	}
}

// fail answers err as an S3 error (once nothing else was written).
func (g *Gateway) fail(q *request, err error) {
	e := toS3(err)
	if e.HTTPStatus >= 500 {
		g.log.Error("s3 request failed", "id", q.id, "method", q.r.Method, "path", q.r.URL.Path, "code", e.Code, "err", err)
	} else {
		g.log.Debug("s3 request refused", "id", q.id, "method", q.r.Method, "path", q.r.URL.Path, "code", e.Code, "err", e.Message)
	}
	if q.auth != nil && q.auth.Body != nil {
		_ = q.auth.Body.Close()
	}
	s3err.Write(q.w, q.r, e, q.id)
}

// toS3 maps an error of any layer to the S3 error a client gets.
func toS3(err error) *s3err.Error {
	var e *s3err.Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, raftstore.ErrNoSuchBucket):
		return s3err.ErrNoSuchBucket.Wrap(err)
	case errors.Is(err, raftstore.ErrNoSuchKey):
		return s3err.ErrNoSuchKey.Wrap(err)
	case errors.Is(err, raftstore.ErrBucketExists):
		return s3err.ErrBucketAlreadyOwnedByYou.Wrap(err)
	case errors.Is(err, raftstore.ErrBucketNotEmpty):
		return s3err.ErrBucketNotEmpty.Wrap(err)
	case errors.Is(err, raftstore.ErrPrecondition):
		return s3err.ErrPreconditionFailed.Wrap(err)
	case errors.Is(err, raftstore.ErrNoSuchVersion):
		return s3err.ErrNoSuchVersion.Wrap(err)
	case errors.Is(err, raftstore.ErrNoSuchUpload):
		return s3err.ErrNoSuchUpload.Wrap(err)
	case errors.Is(err, raftstore.ErrInvalidPart):
		return s3err.ErrInvalidPart.Wrap(err)
	case errors.Is(err, raftstore.ErrInvalidPartOrder):
		return s3err.ErrInvalidPartOrder.Wrap(err)
	case errors.Is(err, raftstore.ErrEntityTooSmall):
		return s3err.ErrEntityTooSmall.Wrap(err)
	case errors.Is(err, raftstore.ErrLocked):
		return s3err.ErrAccessDenied.With("%v", err).Wrap(err)
	case errors.Is(err, raftstore.ErrDeleteMarker):
		return s3err.ErrMethodNotAllowed.Wrap(err)
	case errors.Is(err, raftstore.ErrInvalidArgument):
		return s3err.ErrInvalidArgument.With("%v", err).Wrap(err)
	case errors.Is(err, raftstore.ErrNotLeader), errors.Is(err, raftstore.ErrUnavailable),
		errors.Is(err, raftstore.ErrIndeterminate), errors.Is(err, raftstore.ErrShutdown):
		return s3err.ErrServiceUnavailable.Wrap(err)
	case errors.Is(err, raftstore.ErrNoSpace):
		return s3err.ErrServiceUnavailable.With("The site is out of space.").Wrap(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return s3err.ErrServiceUnavailable.With("The request was cancelled or timed out.").Wrap(err)
	}
	return s3err.ErrInternalError.Wrap(err)
}

// serve authenticates and routes one request.
func (g *Gateway) serve(q *request) error {
	// Path-style addressing: /bucket/key. The raw path is decoded once.
	path := q.r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return s3err.ErrInvalidRequest.With("The request path must start with '/'.")
	}
	bucket, key, _ := strings.Cut(path[1:], "/")
	q.bucket, q.key = bucket, key
	auth, err := g.verify.Verify(q.r)
	if err != nil {
		return err
	}
	q.auth = auth
	if auth.Anonymous {
		return s3err.ErrAccessDenied.With("Anonymous access is not allowed; sign the request.")
	}
	q.principal = auth.Principal
	defer func() { _ = auth.Body.Close() }()
	if bucket == "" {
		if q.r.Method == http.MethodGet {
			return g.listBuckets(q)
		}
		return s3err.ErrMethodNotAllowed
	}
	if err := s3api.ValidBucketName(bucket); err != nil {
		return err
	}
	if key == "" {
		return g.routeBucket(q)
	}
	if err := s3api.ValidObjectKey(key); err != nil {
		return err
	}
	return g.routeObject(q)
}

// subresources S3 defines that this gateway does not serve yet; a request
// naming one gets NotImplemented rather than being mistaken for a plain
// bucket or object operation.
var unsupportedSubresources = []string{
	"accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering", "inventory",
	"logging", "metrics", "notification", "ownershipControls", "policy",
	"policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore",
	"select", "torrent", "website", "attributes",
}

func (q *request) unsupported() error {
	for _, s := range unsupportedSubresources {
		if q.query.Has(s) {
			return s3err.ErrNotImplemented.With("The %q subresource is not implemented by this gateway yet.", s)
		}
	}
	return nil
}

// method picks the handler of q's method; others are MethodNotAllowed.
func method(q *request, handlers map[string]func(*request) error) error {
	if h, ok := handlers[q.r.Method]; ok {
		return h(q)
	}
	return s3err.ErrMethodNotAllowed
}

func (g *Gateway) routeBucket(q *request) error {
	switch {
	case q.query.Has("location") && q.r.Method == http.MethodGet:
		return g.getBucketLocation(q)
	case q.query.Has("versioning"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getBucketVersioning, http.MethodPut: g.putBucketVersioning})
	case q.query.Has("object-lock"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getObjectLockConfig, http.MethodPut: g.putObjectLockConfig})
	case q.query.Has("lifecycle"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getLifecycle, http.MethodPut: g.putLifecycle, http.MethodDelete: g.deleteLifecycle})
	case q.query.Has("tagging"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getBucketTagging, http.MethodPut: g.putBucketTagging, http.MethodDelete: g.deleteBucketTagging})
	case q.query.Has("versions"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.listObjectVersions})
	case q.query.Has("uploads"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.listMultipartUploads})
	case q.query.Has("delete") && q.r.Method == http.MethodPost:
		return g.deleteObjects(q)
	}
	if err := q.unsupported(); err != nil {
		return err
	}
	switch q.r.Method {
	case http.MethodPut:
		return g.createBucket(q)
	case http.MethodHead:
		return g.headBucket(q)
	case http.MethodDelete:
		return g.deleteBucket(q)
	case http.MethodGet:
		if q.query.Get("list-type") == "2" {
			return g.listObjectsV2(q)
		}
		return g.listObjectsV1(q)
	}
	return s3err.ErrMethodNotAllowed
}

func (g *Gateway) routeObject(q *request) error {
	switch {
	case q.query.Has("uploads"):
		return method(q, map[string]func(*request) error{http.MethodPost: g.createMultipartUpload})
	case q.query.Has("uploadId"):
		return method(q, map[string]func(*request) error{
			http.MethodPut: g.uploadPart, http.MethodPost: g.completeMultipartUpload,
			http.MethodDelete: g.abortMultipartUpload, http.MethodGet: g.listParts,
		})
	case q.query.Has("tagging"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getObjectTagging, http.MethodPut: g.putObjectTagging, http.MethodDelete: g.deleteObjectTagging})
	case q.query.Has("retention"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getObjectRetention, http.MethodPut: g.putObjectRetention})
	case q.query.Has("legal-hold"):
		return method(q, map[string]func(*request) error{http.MethodGet: g.getObjectLegalHold, http.MethodPut: g.putObjectLegalHold})
	}
	if err := q.unsupported(); err != nil {
		return err
	}
	switch q.r.Method {
	case http.MethodPut:
		if q.r.Header.Get("X-Amz-Copy-Source") != "" {
			return g.copyObject(q)
		}
		return g.putObject(q)
	case http.MethodGet, http.MethodHead:
		return g.getObject(q)
	case http.MethodDelete:
		return g.deleteObject(q)
	}
	return s3err.ErrMethodNotAllowed
}

// writeXML sends a 200 with an XML document.
func writeXML(q *request, v s3api.Response) error {
	b, err := s3api.Marshal(v)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/xml")
	q.w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(b) // the client may be gone; nothing to undo
	return nil
}

// Server serves a Gateway on its own listener.
type Server struct {
	srv  *http.Server
	lis  net.Listener
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// Listen starts serving g on cfg.Addr. Close stops it.
func Listen(g *Gateway) (*Server, error) {
	lis, err := net.Listen("tcp", g.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("s3: listen on %s: %w", g.cfg.Addr, err)
	}
	s := &Server{
		lis:  lis,
		done: make(chan struct{}),
		srv: &http.Server{
			Handler: g, MaxHeaderBytes: g.cfg.MaxHeaderBytes,
			ReadHeaderTimeout: g.cfg.ReadHeaderTimeout, IdleTimeout: g.cfg.IdleTimeout,
			ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		},
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops accepting requests, waits up to 10s for those in flight,
// then closes the rest, and returns the serve loop's error if it failed.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(err, s.err)
}
