package sigv4

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// TestChecksumKnownValues checks each algorithm on the standard check
// input "123456789" (the CRC catalogue's check values) and "abc".
func TestChecksumKnownValues(t *testing.T) {
	check := []byte("123456789")
	s1 := sha1.Sum([]byte("abc"))
	s256 := sha256.Sum256([]byte("abc"))
	cases := []struct {
		alg  ChecksumAlgorithm
		in   []byte
		want []byte
	}{
		{ChecksumCRC32, check, be32(0xCBF43926)},
		{ChecksumCRC32C, check, be32(0xE3069283)},
		{ChecksumCRC64NVME, check, be64(0xAE8B14860A799888)},
		{ChecksumSHA1, []byte("abc"), s1[:]},
		{ChecksumSHA256, []byte("abc"), s256[:]},
	}
	for _, tc := range cases {
		if got := checksumB64(tc.alg, tc.in); got != b64(tc.want) {
			t.Errorf("%s: %s, want %s", tc.alg, got, b64(tc.want))
		}
		if tc.alg.Size() != len(tc.want) {
			t.Errorf("%s: Size %d", tc.alg, tc.alg.Size())
		}
	}
	if ChecksumAlgorithm("MD4").NewHash() != nil || ChecksumAlgorithm("MD4").Size() != 0 {
		t.Error("unknown algorithm has a hash")
	}
}

// TestChecksumMatchesStdlib compares the CRCs with independent
// implementations (hash/crc32, hash/crc64 with the NVMe polynomial the AWS
// SDK uses) on random data.
func TestChecksumMatchesStdlib(t *testing.T) {
	r := newRand(t)
	nvme := crc64.MakeTable(0x9a6c9329ac4bc9b5)
	for i := 0; i < 200; i++ {
		data := make([]byte, r.IntN(5000))
		for j := range data {
			data[j] = byte(r.IntN(256))
		}
		if got, want := checksumB64(ChecksumCRC32, data), b64(be32(crc32.ChecksumIEEE(data))); got != want {
			t.Fatalf("crc32 of %d bytes: %s, want %s", len(data), got, want)
		}
		if got, want := checksumB64(ChecksumCRC32C, data), b64(be32(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))); got != want {
			t.Fatalf("crc32c of %d bytes: %s, want %s", len(data), got, want)
		}
		if got, want := checksumB64(ChecksumCRC64NVME, data), b64(be64(crc64.Checksum(data, nvme))); got != want {
			t.Fatalf("crc64nvme of %d bytes: %s, want %s", len(data), got, want)
		}
	}
}

func TestParseChecksumAlgorithm(t *testing.T) {
	for _, a := range ChecksumAlgorithms() {
		for _, s := range []string{string(a), string(bytes.ToLower([]byte(a)))} {
			if got, ok := ParseChecksumAlgorithm(s); !ok || got != a {
				t.Errorf("ParseChecksumAlgorithm(%q) = %q, %v", s, got, ok)
			}
		}
		if got, ok := algorithmForHeader(a.HeaderName()); !ok || got != a {
			t.Errorf("algorithmForHeader(%q) = %q", a.HeaderName(), got)
		}
	}
	for _, s := range []string{"", "MD5", "CRC", "crc32x"} {
		if _, ok := ParseChecksumAlgorithm(s); ok {
			t.Errorf("ParseChecksumAlgorithm(%q) accepted", s)
		}
	}
	if _, ok := algorithmForHeader("x-amz-checksum-mode"); ok {
		t.Error("x-amz-checksum-mode taken for a checksum")
	}
}

func TestParseChecksumHeaders(t *testing.T) {
	data := []byte("checksummed")
	md := md5.Sum(data)
	crc := checksumB64(ChecksumCRC32, data)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	ok := []struct {
		name string
		h    http.Header
		want ChecksumSpec
	}{
		{"none", h(), ChecksumSpec{}},
		{"md5", h("Content-MD5", b64(md[:])), ChecksumSpec{ContentMD5: md[:]}},
		{"crc32 header", h("x-amz-checksum-crc32", crc), ChecksumSpec{Algorithm: ChecksumCRC32}},
		{"crc32 header and sdk algorithm", h("x-amz-checksum-crc32", crc, "x-amz-sdk-checksum-algorithm", "crc32"), ChecksumSpec{Algorithm: ChecksumCRC32}},
		{"sdk algorithm only", h("x-amz-sdk-checksum-algorithm", "CRC64NVME"), ChecksumSpec{Algorithm: ChecksumCRC64NVME}},
		{"trailer", h("x-amz-trailer", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm", "SHA256"), ChecksumSpec{Algorithm: ChecksumSHA256, InTrailer: true}},
		{"checksum mode and type are not checksums", h("x-amz-checksum-mode", "ENABLED", "x-amz-checksum-type", "FULL_OBJECT"), ChecksumSpec{}},
	}
	for _, tc := range ok {
		got, err := ParseChecksumHeaders(tc.h)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !bytes.Equal(got.ContentMD5, tc.want.ContentMD5) || got.Algorithm != tc.want.Algorithm || got.InTrailer != tc.want.InTrailer ||
			(tc.h.Get("x-amz-checksum-crc32") != "") != (got.Expected != nil) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	bad := []struct {
		name string
		h    http.Header
		want *s3err.Error
	}{
		{"md5 not base64", h("Content-MD5", "not base64!"), s3err.ErrInvalidDigest},
		{"md5 wrong length", h("Content-MD5", b64([]byte("short"))), s3err.ErrInvalidDigest},
		{"md5 twice", h("Content-MD5", b64(md[:]), "Content-MD5", b64(md[:])), s3err.ErrInvalidDigest},
		{"crc32 wrong length", h("x-amz-checksum-crc32", b64([]byte("12345"))), s3err.ErrInvalidRequest},
		{"sha256 not base64", h("x-amz-checksum-sha256", "%%%"), s3err.ErrInvalidRequest},
		{"two algorithms", h("x-amz-checksum-crc32", crc, "x-amz-checksum-crc32c", crc), s3err.ErrInvalidRequest},
		{"header and trailer", h("x-amz-checksum-crc32", crc, "x-amz-trailer", "x-amz-checksum-crc32"), s3err.ErrInvalidRequest},
		{"sdk algorithm disagrees", h("x-amz-checksum-crc32", crc, "x-amz-sdk-checksum-algorithm", "SHA1"), s3err.ErrInvalidRequest},
		{"sdk algorithm unknown", h("x-amz-sdk-checksum-algorithm", "MD5"), s3err.ErrInvalidRequest},
		{"unknown trailer", h("x-amz-trailer", "x-amz-meta-x"), s3err.ErrInvalidRequest},
	}
	for _, tc := range bad {
		_, err := ParseChecksumHeaders(tc.h)
		var se *s3err.Error
		if !errors.As(err, &se) || se.Code != tc.want.Code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want.Code)
		}
	}
}

func TestChecksumReader(t *testing.T) {
	data := bytes.Repeat([]byte("integrity "), 3000)
	md := md5.Sum(data)
	for _, a := range ChecksumAlgorithms() {
		t.Run(string(a), func(t *testing.T) {
			want, _ := base64.StdEncoding.DecodeString(checksumB64(a, data))
			spec := ChecksumSpec{ContentMD5: md[:], Algorithm: a, Expected: want}
			cr := NewChecksumReader(iotest.HalfReader(bytes.NewReader(data)), spec, ChecksumCRC64NVME, ChecksumSHA256)
			got, err := io.ReadAll(cr)
			if err != nil || !bytes.Equal(got, data) || !cr.Done() || cr.Size() != int64(len(data)) {
				t.Fatalf("read %d bytes, %v, done %v", len(got), err, cr.Done())
			}
			if s, ok := cr.Checksum(a); !ok || s != checksumB64(a, data) {
				t.Fatalf("Checksum(%s) = %s", a, s)
			}
			if s, ok := cr.Checksum(ChecksumCRC64NVME); !ok || s != checksumB64(ChecksumCRC64NVME, data) {
				t.Fatal("extra CRC64NVME not computed")
			}
			if !bytes.Equal(cr.MD5(), md[:]) {
				t.Fatal("MD5")
			}

			// One flipped byte: the data still flows, the last read fails,
			// and keeps failing.
			bad := bytes.Clone(data)
			bad[len(bad)/2] ^= 1
			cr = NewChecksumReader(bytes.NewReader(bad), ChecksumSpec{Algorithm: a, Expected: want})
			got, err = io.ReadAll(cr)
			wantCode(t, err, s3err.ErrXAmzContentChecksumMismatch)
			if len(got) != len(bad) || cr.Done() {
				t.Fatalf("read %d bytes, done %v", len(got), cr.Done())
			}
			if _, err2 := cr.Read(make([]byte, 1)); err2 != err {
				t.Fatalf("error not sticky: %v", err2)
			}
		})
	}
	t.Run("content-md5 mismatch", func(t *testing.T) {
		other := md5.Sum([]byte("x"))
		_, err := io.ReadAll(NewChecksumReader(bytes.NewReader(data), ChecksumSpec{ContentMD5: other[:]}))
		wantCode(t, err, s3err.ErrBadDigest)
	})
	t.Run("algorithm without expected value", func(t *testing.T) {
		cr := NewChecksumReader(bytes.NewReader(data), ChecksumSpec{Algorithm: ChecksumCRC32C, InTrailer: true})
		if _, err := io.ReadAll(cr); err != nil {
			t.Fatal(err)
		}
		if s, _ := cr.Checksum(ChecksumCRC32C); s != checksumB64(ChecksumCRC32C, data) {
			t.Fatalf("checksum %s", s)
		}
		if _, ok := cr.Checksum(ChecksumSHA1); ok {
			t.Fatal("SHA1 computed without being asked")
		}
	})
	t.Run("source error passes through", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := io.ReadAll(NewChecksumReader(iotest.ErrReader(boom), ChecksumSpec{}))
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
	})
}
