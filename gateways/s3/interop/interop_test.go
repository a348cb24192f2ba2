package interop

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// bigSize is the object uploaded as a multipart upload.
const bigSize = 100 << 20

func TestAWSCLI(t *testing.T) { testClient(t, "aws") }
func TestS3cmd(t *testing.T)  { testClient(t, "s3cmd") }
func TestRclone(t *testing.T) { testClient(t, "rclone") }

// testClient runs every step with one tool against a ferryd of its own.
// The AWS CLI is needed by all three: it does the steps the other tools
// have no command for.
func testClient(t *testing.T, name string) {
	toolPath(t, name)
	toolPath(t, "aws")
	seed := testSeed(t)
	s := startFerryd(t, buildFerryd(t))
	dir := t.TempDir()
	aws := newAWS(t, s, dir)
	var c client = aws
	switch name {
	case "s3cmd":
		c = newS3cmd(t, s, dir)
	case "rclone":
		c = newRclone(t, s, dir)
	}
	runSteps(t, c, aws, seed, dir)
}

// object is a file of random bytes uploaded under key.
type object struct {
	key  string
	file string
	size int64
	sum  [sha256.Size]byte
}

// newObject writes size random bytes, drawn from r, to a new file in dir.
func newObject(t *testing.T, dir, key string, size int64, r *rand.Rand) object {
	t.Helper()
	var seed [32]byte
	for i := 0; i < len(seed); i += 8 {
		binary.LittleEndian.PutUint64(seed[i:], r.Uint64())
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	o := object{key: key, size: size, file: filepath.Join(dir, strings.ReplaceAll(key, "/", "_"))}
	f, err := os.Create(o.file)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	_, err = io.CopyN(io.MultiWriter(f, h), rand.NewChaCha8(seed), size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	h.Sum(o.sum[:0])
	return o
}

// checkFile compares a downloaded file with the object uploaded.
func checkFile(t *testing.T, want object, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Sum(nil); n != want.size || string(got) != string(want.sum[:]) {
		t.Fatalf("%s read back %d bytes with sha256 %x; %d bytes with sha256 %x were written",
			want.key, n, got, want.size, want.sum)
	}
}

// checkRange compares bytes read from want at off with the file uploaded.
func checkRange(t *testing.T, got []byte, want object, off, n int64) {
	t.Helper()
	f, err := os.Open(want.file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	exp := make([]byte, n)
	if _, err := f.ReadAt(exp, off); err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != n || sha256.Sum256(got) != sha256.Sum256(exp) {
		t.Fatalf("%s bytes %d-%d: read %d bytes with sha256 %x, want %d bytes with sha256 %x",
			want.key, off, off+n-1, len(got), sha256.Sum256(got), n, sha256.Sum256(exp))
	}
}

// checkListing compares a delimited listing with the keys and common
// prefixes expected, in any order.
func checkListing(t *testing.T, what string, l listing, keys, prefixes []string) {
	t.Helper()
	gk, gp := slices.Sorted(slices.Values(l.keys)), slices.Sorted(slices.Values(l.prefixes))
	wk, wp := slices.Sorted(slices.Values(keys)), slices.Sorted(slices.Values(prefixes))
	if !slices.Equal(gk, wk) || !slices.Equal(gp, wp) {
		t.Errorf("%s: keys %q and common prefixes %q; want keys %q and common prefixes %q\n%s",
			what, gk, gp, wk, wp, l.raw)
	}
}

func runSteps(t *testing.T, c client, aws *awsCLI, seed int64, dir string) {
	r := rand.New(rand.NewPCG(uint64(seed), 0))
	up, down := filepath.Join(dir, "up"), filepath.Join(dir, "down")
	if err := os.MkdirAll(down, 0o700); err != nil {
		t.Fatal(err)
	}
	downloads := 0
	fresh := func(name string) string { // a new download path each time
		downloads++
		return filepath.Join(down, fmt.Sprintf("%d-%s", downloads, name))
	}
	bucket := "interop-" + c.name()
	small := []object{
		newObject(t, up, "data/small.bin", 16<<10+r.Int64N(48<<10), r),
		newObject(t, up, "data/sub/one.txt", 1+r.Int64N(4<<10), r),
		newObject(t, up, "data/sub/two words+plus.txt", 1+r.Int64N(4<<10), r),
		newObject(t, up, "other/three.txt", 1+r.Int64N(4<<10), r),
	}
	big := newObject(t, up, "big/big.bin", bigSize, r)
	const versionedKey = "doc.txt"
	v1 := newObject(t, filepath.Join(up, "v1"), versionedKey, 1+r.Int64N(4<<10), r)
	v2 := newObject(t, filepath.Join(up, "v2"), versionedKey, 5<<10+r.Int64N(4<<10), r) // another size than v1
	smallOff := r.Int64N(small[0].size / 2)
	smallN := 1 + r.Int64N(small[0].size-smallOff)
	boundaryOff := c.partSize() - 1 - r.Int64N(4<<10) // the range covers the first part's last byte

	if !t.Run("create bucket", func(t *testing.T) {
		c.makeBucket(t, bucket)
		if names := c.listBuckets(t); !slices.Contains(names, bucket) {
			t.Fatalf("bucket %s missing from the bucket list %q", bucket, names)
		}
	}) {
		return // nothing else can pass
	}

	t.Run("put small objects", func(t *testing.T) {
		for _, o := range small {
			c.put(t, o.file, bucket, o.key)
		}
		for _, o := range small {
			f := fresh(filepath.Base(o.file))
			c.get(t, bucket, o.key, f)
			checkFile(t, o, f)
		}
	})

	bigUploaded := false
	t.Run("put 100 MiB multipart", func(t *testing.T) {
		c.put(t, big.file, bucket, big.key)
		bigUploaded = true
		parts := (big.size + c.partSize() - 1) / c.partSize()
		etag := aws.etag(t, bucket, big.key)
		if !regexp.MustCompile(fmt.Sprintf(`^"[0-9a-f]{32}-%d"$`, parts)).MatchString(etag) {
			t.Errorf("%s has ETag %s; a multipart upload of %d parts has the ETag \"<md5 of the parts' md5s>-%d\"",
				big.key, etag, parts, parts)
		}
		f := fresh("big.bin")
		c.get(t, bucket, big.key, f)
		checkFile(t, big, f)
	})

	t.Run("list with prefix and delimiter", func(t *testing.T) {
		checkListing(t, "prefix data/", c.list(t, bucket, "data/"),
			[]string{"data/small.bin"}, []string{"data/sub/"})
		checkListing(t, "prefix data/sub/", c.list(t, bucket, "data/sub/"),
			[]string{"data/sub/one.txt", "data/sub/two words+plus.txt"}, nil)
		top := []string{"data/", "other/"}
		if bigUploaded {
			top = append(top, "big/")
		}
		checkListing(t, "no prefix", c.list(t, bucket, ""), nil, top)
	})

	t.Run("read byte range", func(t *testing.T) {
		rr, ok := c.(rangeReader)
		if !ok {
			t.Logf("%s has no ranged GET; reading the ranges with the AWS CLI", c.name())
			rr = aws
		}
		t.Run("small object", func(t *testing.T) {
			checkRange(t, rr.getRange(t, bucket, small[0].key, smallOff, smallN), small[0], smallOff, smallN)
		})
		t.Run("across a part boundary", func(t *testing.T) {
			if !bigUploaded {
				t.Skip("needs the multipart object, whose upload failed above")
			}
			const n = 8 << 10
			checkRange(t, rr.getRange(t, bucket, big.key, boundaryOff, n), big, boundaryOff, n)
		})
	})

	const copyKey = "copy/small copy.bin"
	copied := false
	t.Run("server-side copy", func(t *testing.T) {
		c.copy(t, bucket, small[0].key, copyKey)
		copied = true
		f := fresh("copy.bin")
		c.get(t, bucket, copyKey, f)
		checkFile(t, small[0], f)
	})

	t.Run("delete objects", func(t *testing.T) {
		if copied {
			c.remove(t, bucket, copyKey)
		}
		c.remove(t, bucket, small[1].key, small[2].key)
		checkListing(t, "prefix data/ after the deletes", c.list(t, bucket, "data/"), []string{"data/small.bin"}, nil)
		checkListing(t, "prefix copy/ after the deletes", c.list(t, bucket, "copy/"), nil, nil)
	})

	t.Run("versioning", func(t *testing.T) {
		vb := bucket + "-versions"
		vr, ok := c.(versioner)
		if !ok {
			t.Logf("%s has no versioning commands; enabling versioning, listing and reading versions with the AWS CLI", c.name())
			vr = aws
		}
		if !t.Run("create bucket", func(t *testing.T) { c.makeBucket(t, vb) }) {
			return
		}
		t.Run("enable", func(t *testing.T) { vr.enableVersioning(t, vb) })
		t.Run("put one key twice", func(t *testing.T) {
			c.put(t, v1.file, vb, versionedKey)
			c.put(t, v2.file, vb, versionedKey)
			f := fresh("v2")
			c.get(t, vb, versionedKey, f)
			checkFile(t, v2, f)
		})
		var older *version
		t.Run("list versions", func(t *testing.T) {
			vs, _, raw := vr.listVersions(t, vb, versionedKey)
			var latest, old []version
			for _, v := range vs {
				switch {
				case v.deleteMarker:
					t.Errorf("unexpected delete marker %v", v)
				case v.latest:
					latest = append(latest, v)
				default:
					old = append(old, v)
				}
			}
			if len(latest) != 1 || len(old) != 1 {
				t.Fatalf("want two versions of %s, one of them the latest; got %v\n%s", versionedKey, vs, raw)
			}
			older = &old[0]
		})
		t.Run("read older version", func(t *testing.T) {
			if older == nil {
				t.Skip("needs the version list, which failed above")
			}
			f := fresh("v1")
			vr.getVersion(t, vb, versionedKey, *older, f)
			checkFile(t, v1, f)
		})
		t.Run("delete key", func(t *testing.T) { c.remove(t, vb, versionedKey) })
		t.Run("gone from listing", func(t *testing.T) {
			checkListing(t, "versioned bucket after the delete", c.list(t, vb, ""), nil, nil)
		})
		t.Run("versions remain", func(t *testing.T) {
			vs, showsMarkers, raw := vr.listVersions(t, vb, versionedKey)
			var versions, markers int
			for _, v := range vs {
				switch {
				case v.deleteMarker:
					markers++
					if !v.latest {
						t.Errorf("delete marker %v is not the latest version", v)
					}
				case v.latest:
					t.Errorf("version %v is still the latest after the delete", v)
				default:
					versions++
				}
			}
			if versions != 2 || (showsMarkers && markers != 1) {
				t.Fatalf("want the two versions of %s behind one delete marker; got %v\n%s", versionedKey, vs, raw)
			}
		})
	})
}
