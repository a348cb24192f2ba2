package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// client is one S3 CLI driven through the steps. Each method fails t,
// showing the command line and its output, when the command fails.
type client interface {
	name() string
	// partSize is the multipart part size the client is configured with.
	partSize() int64
	makeBucket(t *testing.T, bucket string)
	listBuckets(t *testing.T) []string
	put(t *testing.T, file, bucket, key string)
	get(t *testing.T, bucket, key, file string)
	// list lists bucket under prefix with the delimiter "/".
	list(t *testing.T, bucket, prefix string) listing
	copy(t *testing.T, bucket, src, dst string)
	remove(t *testing.T, bucket string, keys ...string)
}

// rangeReader is a client that can read a byte range of an object.
type rangeReader interface {
	getRange(t *testing.T, bucket, key string, off, n int64) []byte
}

// versioner is a client with commands for bucket versioning.
type versioner interface {
	enableVersioning(t *testing.T, bucket string)
	// listVersions lists the versions of key, and says whether the tool
	// shows delete markers at all.
	listVersions(t *testing.T, bucket, key string) (vs []version, showsMarkers bool, raw *result)
	getVersion(t *testing.T, bucket, key string, v version, file string)
}

// listing is what one delimited list returned.
type listing struct {
	keys, prefixes []string
	raw            *result
}

// version is one version of a key as a tool shows it.
type version struct {
	id           string // the version id, where the tool shows it
	name         string // the name the tool gives it (rclone: key-vTIME.ext)
	latest       bool
	deleteMarker bool
}

func (v version) String() string {
	s := v.name
	if v.id != "" {
		s += " id=" + v.id
	}
	if v.latest {
		s += " latest"
	}
	if v.deleteMarker {
		s += " delete-marker"
	}
	return s
}

func decodeJSON(t *testing.T, r *result, v any) {
	t.Helper()
	if len(strings.TrimSpace(string(r.stdout))) == 0 {
		return // aws prints nothing for an empty answer
	}
	if err := json.Unmarshal(r.stdout, v); err != nil {
		t.Fatalf("cannot decode the output as JSON: %v\n%s", err, r)
	}
}

// ---- AWS CLI ----

// awsCLI drives the AWS CLI; it also does, for the other tools, the steps
// they have no command for.
type awsCLI struct {
	*tool
	cfg *tool // `aws configure`, without the endpoint arguments
}

const awsPartSize = 8 << 20 // multipart_chunksize 8MB: the AWS CLI's MB are MiB

func newAWS(t *testing.T, s *site, dir string) *awsCLI {
	t.Helper()
	bin := toolPath(t, "aws")
	d := filepath.Join(dir, "aws")
	env := []string{
		"AWS_CONFIG_FILE=" + filepath.Join(d, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(d, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
	c := &awsCLI{
		tool: newTool("aws", bin, d, []string{"--endpoint-url", s.endpoint, "--output", "json"}, env...),
		cfg:  newTool("aws", bin, d, nil, env...),
	}
	t.Logf("%s", strings.TrimSpace(string(c.cfg.run(t, "--version").stdout)))
	for _, kv := range [][2]string{
		{"aws_access_key_id", rootAccessKey},
		{"aws_secret_access_key", rootSecretKey},
		{"region", region},
		{"s3.addressing_style", "path"},
		{"s3.multipart_threshold", "8MB"},
		{"s3.multipart_chunksize", "8MB"},
	} {
		c.cfg.run(t, "configure", "set", kv[0], kv[1])
	}
	return c
}

func (c *awsCLI) name() string    { return "aws" }
func (c *awsCLI) partSize() int64 { return awsPartSize }

func (c *awsCLI) makeBucket(t *testing.T, bucket string) {
	t.Helper()
	c.run(t, "s3", "mb", "s3://"+bucket)
}

func (c *awsCLI) listBuckets(t *testing.T) []string {
	t.Helper()
	var out struct{ Buckets []struct{ Name string } }
	decodeJSON(t, c.run(t, "s3api", "list-buckets"), &out)
	var names []string
	for _, b := range out.Buckets {
		names = append(names, b.Name)
	}
	return names
}

func (c *awsCLI) put(t *testing.T, file, bucket, key string) {
	t.Helper()
	c.run(t, "s3", "cp", "--no-progress", file, "s3://"+bucket+"/"+key)
}

func (c *awsCLI) get(t *testing.T, bucket, key, file string) {
	t.Helper()
	c.run(t, "s3", "cp", "--no-progress", "s3://"+bucket+"/"+key, file)
}

func (c *awsCLI) list(t *testing.T, bucket, prefix string) listing {
	t.Helper()
	args := []string{"s3api", "list-objects-v2", "--bucket", bucket, "--delimiter", "/"}
	if prefix != "" {
		args = append(args, "--prefix", prefix)
	}
	r := c.run(t, args...)
	var out struct {
		Contents       []struct{ Key string }
		CommonPrefixes []struct{ Prefix string }
	}
	decodeJSON(t, r, &out)
	l := listing{raw: r}
	for _, o := range out.Contents {
		l.keys = append(l.keys, o.Key)
	}
	for _, p := range out.CommonPrefixes {
		l.prefixes = append(l.prefixes, p.Prefix)
	}
	return l
}

func (c *awsCLI) copy(t *testing.T, bucket, src, dst string) {
	t.Helper()
	c.run(t, "s3", "cp", "--no-progress", "s3://"+bucket+"/"+src, "s3://"+bucket+"/"+dst)
}

// remove deletes one key with DeleteObject, several with one DeleteObjects.
func (c *awsCLI) remove(t *testing.T, bucket string, keys ...string) {
	t.Helper()
	if len(keys) == 1 {
		c.run(t, "s3", "rm", "s3://"+bucket+"/"+keys[0])
		return
	}
	type obj struct{ Key string }
	var req struct{ Objects []obj }
	for _, k := range keys {
		req.Objects = append(req.Objects, obj{k})
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	r := c.run(t, "s3api", "delete-objects", "--bucket", bucket, "--delete", string(b))
	var out struct {
		Deleted []struct{ Key string }
		Errors  []struct{ Key, Code, Message string }
	}
	decodeJSON(t, r, &out)
	if len(out.Errors) != 0 || len(out.Deleted) != len(keys) {
		t.Fatalf("delete-objects of %d keys answered %d deleted, errors %v:\n%s", len(keys), len(out.Deleted), out.Errors, r)
	}
}

func (c *awsCLI) getRange(t *testing.T, bucket, key string, off, n int64) []byte {
	t.Helper()
	file := filepath.Join(c.dir, fmt.Sprintf("range-%d-%d", off, n))
	c.run(t, "s3api", "get-object", "--bucket", bucket, "--key", key,
		"--range", fmt.Sprintf("bytes=%d-%d", off, off+n-1), file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// etag is the object's ETag, quotes included.
func (c *awsCLI) etag(t *testing.T, bucket, key string) string {
	t.Helper()
	var out struct{ ETag string }
	decodeJSON(t, c.run(t, "s3api", "head-object", "--bucket", bucket, "--key", key), &out)
	return out.ETag
}

func (c *awsCLI) enableVersioning(t *testing.T, bucket string) {
	t.Helper()
	c.run(t, "s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
	r := c.run(t, "s3api", "get-bucket-versioning", "--bucket", bucket)
	var out struct{ Status string }
	decodeJSON(t, r, &out)
	if out.Status != "Enabled" {
		t.Fatalf("versioning status after enabling it is %q:\n%s", out.Status, r)
	}
}

func (c *awsCLI) listVersions(t *testing.T, bucket, key string) ([]version, bool, *result) {
	t.Helper()
	r := c.run(t, "s3api", "list-object-versions", "--bucket", bucket, "--prefix", key)
	type entry struct {
		Key, VersionId string
		IsLatest       bool
	}
	var out struct{ Versions, DeleteMarkers []entry }
	decodeJSON(t, r, &out)
	var vs []version
	for _, e := range out.Versions {
		if e.Key == key {
			vs = append(vs, version{id: e.VersionId, name: e.Key, latest: e.IsLatest})
		}
	}
	for _, e := range out.DeleteMarkers {
		if e.Key == key {
			vs = append(vs, version{id: e.VersionId, name: e.Key, latest: e.IsLatest, deleteMarker: true})
		}
	}
	return vs, true, r
}

func (c *awsCLI) getVersion(t *testing.T, bucket, key string, v version, file string) {
	t.Helper()
	c.run(t, "s3api", "get-object", "--bucket", bucket, "--key", key, "--version-id", v.id, file)
}

// ---- s3cmd ----

// s3cmd has no ranged GET and no versioning commands: it implements
// neither rangeReader nor versioner.
type s3cmd struct{ *tool }

const s3cmdPartSize = 15 << 20

func newS3cmd(t *testing.T, s *site, dir string) *s3cmd {
	t.Helper()
	bin := toolPath(t, "s3cmd")
	d := filepath.Join(dir, "s3cmd")
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(d, "s3cfg")
	// host_bucket without %(bucket)s: path-style addressing.
	conf := fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
use_https = False
bucket_location = %s
signature_v2 = False
`, rootAccessKey, rootSecretKey, s.hostPort, s.hostPort, region)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &s3cmd{newTool("s3cmd", bin, d, []string{"-c", cfg, "--no-progress"})}
	t.Logf("%s", strings.TrimSpace(string(c.run(t, "--version").stdout)))
	return c
}

func (c *s3cmd) name() string    { return "s3cmd" }
func (c *s3cmd) partSize() int64 { return s3cmdPartSize }

func (c *s3cmd) makeBucket(t *testing.T, bucket string) {
	t.Helper()
	c.run(t, "mb", "s3://"+bucket)
}

// listBuckets parses lines "2006-01-02 15:04  s3://BUCKET".
func (c *s3cmd) listBuckets(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(string(c.run(t, "ls").stdout), "\n") {
		if _, uri, ok := strings.Cut(line, "s3://"); ok {
			names = append(names, strings.TrimSpace(uri))
		}
	}
	return names
}

func (c *s3cmd) put(t *testing.T, file, bucket, key string) {
	t.Helper()
	c.run(t, "put", fmt.Sprintf("--multipart-chunk-size-mb=%d", s3cmdPartSize>>20), file, "s3://"+bucket+"/"+key)
}

func (c *s3cmd) get(t *testing.T, bucket, key, file string) {
	t.Helper()
	c.run(t, "get", "--force", "s3://"+bucket+"/"+key, file)
}

// list parses `s3cmd ls s3://BUCKET/PREFIX`, whose lines are
// "DIR  s3://BUCKET/PREFIX/" for common prefixes and
// "DATE TIME SIZE  s3://BUCKET/KEY" for objects. Keys may hold spaces.
func (c *s3cmd) list(t *testing.T, bucket, prefix string) listing {
	t.Helper()
	base := "s3://" + bucket + "/"
	r := c.run(t, "ls", base+prefix)
	l := listing{raw: r}
	for _, line := range strings.Split(string(r.stdout), "\n") {
		head, key, ok := strings.Cut(line, base)
		if !ok {
			continue
		}
		if f := strings.Fields(head); len(f) > 0 && f[len(f)-1] == "DIR" {
			l.prefixes = append(l.prefixes, key)
		} else {
			l.keys = append(l.keys, key)
		}
	}
	return l
}

func (c *s3cmd) copy(t *testing.T, bucket, src, dst string) {
	t.Helper()
	c.run(t, "cp", "s3://"+bucket+"/"+src, "s3://"+bucket+"/"+dst)
}

func (c *s3cmd) remove(t *testing.T, bucket string, keys ...string) {
	t.Helper()
	args := []string{"del"}
	for _, k := range keys {
		args = append(args, "s3://"+bucket+"/"+k)
	}
	c.run(t, args...)
}

// ---- rclone ----

// rclone is configured by RCLONE_CONFIG_FERRY_* variables (remote
// "ferry:") and an empty --config file.
type rclone struct{ *tool }

const rclonePartSize = 8 << 20

func newRclone(t *testing.T, s *site, dir string) *rclone {
	t.Helper()
	bin := toolPath(t, "rclone")
	d := filepath.Join(dir, "rclone")
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(d, "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &rclone{newTool("rclone", bin, d,
		[]string{"--config", conf, "--retries", "1", "--low-level-retries", "1",
			"--s3-upload-cutoff", "8M", "--s3-chunk-size", "8M"},
		"RCLONE_CONFIG_FERRY_TYPE=s3", "RCLONE_CONFIG_FERRY_PROVIDER=Other",
		"RCLONE_CONFIG_FERRY_ACCESS_KEY_ID="+rootAccessKey, "RCLONE_CONFIG_FERRY_SECRET_ACCESS_KEY="+rootSecretKey,
		"RCLONE_CONFIG_FERRY_ENDPOINT="+s.endpoint, "RCLONE_CONFIG_FERRY_REGION="+region,
		"RCLONE_CONFIG_FERRY_FORCE_PATH_STYLE=true")}
	v := strings.TrimSpace(string(c.run(t, "version").stdout))
	v, _, _ = strings.Cut(v, "\n")
	t.Logf("%s", v)
	return c
}

func (c *rclone) name() string    { return "rclone" }
func (c *rclone) partSize() int64 { return rclonePartSize }

func remote(bucket, key string) string { return "ferry:" + path.Join(bucket, key) }

func (c *rclone) makeBucket(t *testing.T, bucket string) {
	t.Helper()
	c.run(t, "mkdir", remote(bucket, ""))
}

func (c *rclone) listBuckets(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, line := range strings.Split(string(c.run(t, "lsf", "ferry:").stdout), "\n") {
		if line != "" {
			names = append(names, strings.TrimSuffix(line, "/"))
		}
	}
	return names
}

// put uploads with --ignore-times so that rclone never skips an upload
// because the object already has the file's size and time.
func (c *rclone) put(t *testing.T, file, bucket, key string) {
	t.Helper()
	c.run(t, "copyto", "--ignore-times", file, remote(bucket, key))
}

func (c *rclone) get(t *testing.T, bucket, key, file string) {
	t.Helper()
	c.run(t, "copyto", remote(bucket, key), file)
}

// list parses `rclone lsf ferry:BUCKET/PREFIX`: names relative to the
// prefix, directories (common prefixes) ending in "/".
func (c *rclone) list(t *testing.T, bucket, prefix string) listing {
	t.Helper()
	r := c.run(t, "lsf", remote(bucket, prefix))
	l := listing{raw: r}
	for _, name := range strings.Split(string(r.stdout), "\n") {
		switch {
		case name == "":
		case strings.HasSuffix(name, "/"):
			l.prefixes = append(l.prefixes, prefix+name)
		default:
			l.keys = append(l.keys, prefix+name)
		}
	}
	return l
}

// copy is a server-side copy between two keys of one remote; rclone says
// so in its -v log.
func (c *rclone) copy(t *testing.T, bucket, src, dst string) {
	t.Helper()
	r := c.run(t, "copyto", "-v", remote(bucket, src), remote(bucket, dst))
	if !strings.Contains(string(r.combined), "server-side copy") {
		t.Fatalf("rclone did not report a server-side copy:\n%s", r)
	}
}

func (c *rclone) remove(t *testing.T, bucket string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		c.run(t, "deletefile", remote(bucket, k))
	}
}

func (c *rclone) getRange(t *testing.T, bucket, key string, off, n int64) []byte {
	t.Helper()
	return c.run(t, "cat", "--offset", fmt.Sprint(off), "--count", fmt.Sprint(n), remote(bucket, key)).stdout
}

func (c *rclone) enableVersioning(t *testing.T, bucket string) {
	t.Helper()
	r := c.run(t, "backend", "versioning", remote(bucket, ""), "Enabled")
	if strings.TrimSpace(string(r.stdout)) != "Enabled" {
		t.Fatalf("rclone reports versioning status %q after enabling it:\n%s", strings.TrimSpace(string(r.stdout)), r)
	}
}

// listVersions lists with --s3-versions, which shows the latest version
// under its own name and older ones as NAME-vYYYY-MM-DD-HHMMSS-mmm.EXT;
// delete markers are not shown.
func (c *rclone) listVersions(t *testing.T, bucket, key string) ([]version, bool, *result) {
	t.Helper()
	dir, file := path.Split(key)
	ext := path.Ext(file)
	old := regexp.MustCompile(`^` + regexp.QuoteMeta(strings.TrimSuffix(file, ext)) +
		`-v\d{4}-\d{2}-\d{2}-\d{6}-\d{3}` + regexp.QuoteMeta(ext) + `$`)
	r := c.run(t, "lsjson", "--s3-versions", remote(bucket, dir))
	var out []struct {
		Name  string
		IsDir bool
	}
	decodeJSON(t, r, &out)
	var vs []version
	for _, e := range out {
		switch {
		case e.IsDir:
		case e.Name == file:
			vs = append(vs, version{name: dir + e.Name, latest: true})
		case old.MatchString(e.Name):
			vs = append(vs, version{name: dir + e.Name})
		}
	}
	return vs, false, r
}

// getVersion reads an old version by the name --s3-versions gives it;
// rclone fetches it by its version id.
func (c *rclone) getVersion(t *testing.T, bucket, key string, v version, file string) {
	t.Helper()
	c.run(t, "copyto", "--s3-versions", remote(bucket, v.name), file)
}
