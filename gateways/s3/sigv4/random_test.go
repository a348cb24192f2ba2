package sigv4

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
)

// keyAlphabet mixes every printable ASCII character with multi-byte runes.
var keyAlphabet = []rune(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~äöüßéñ日本語한국어😀\u00a0\u2028")

func randomString(r *rand.Rand, alphabet []rune, maxLen int) string {
	n := 1 + r.IntN(maxLen)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// randomQuery returns url.Values with random names and values; with
// simpleNames the names are alphanumeric and never repeat (minio-go sorts
// names before encoding and keeps repeated names in insertion order, which
// only agrees with SigV4 for such names).
func randomQuery(r *rand.Rand, simpleNames bool) url.Values {
	q := url.Values{}
	alnum := []rune("abcdefghijklmnopqrstuvwxyz0123456789-")
	for i := r.IntN(5); i > 0; i-- {
		name := randomString(r, keyAlphabet, 12)
		if simpleNames {
			name = randomString(r, alnum, 12)
			q.Set(name, randomString(r, keyAlphabet, 20))
			continue
		}
		q.Add(name, randomString(r, keyAlphabet, 20))
		if r.IntN(3) == 0 {
			q.Add(name, randomString(r, keyAlphabet, 5))
		}
	}
	return q
}

// rawQuery encodes q the way the SDK does on the wire (%20 for space).
func rawQuery(q url.Values) string { return strings.ReplaceAll(q.Encode(), "+", "%20") }

func TestRandomKeysAndQueries(t *testing.T) {
	r := newRand(t)
	clock := newFakeClock(time.Now())
	h := newHarness(t, testVerifier(t, clock), false)
	iters := 80
	if testing.Short() || raceEnabled {
		iters = 20
	}
	for i := 0; i < iters; i++ {
		key := randomString(r, keyAlphabet, 40)
		body := []byte(randomString(r, keyAlphabet, 100))

		// aws-sdk-go-v2, header signature, any query.
		q := randomQuery(r, false)
		u := objectURL(t, h.srv.URL, key, rawQuery(q))
		req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Content-Sha256", sha256hex(body))
		req.Header.Set("X-Amz-Meta-Random", randomString(r, []rune("ab  c\t"), 10))
		at := clock.Now()
		if err := s3Signer().SignHTTP(context.Background(), awsCreds(testAK, testSecret), req, sha256hex(body), "s3", "us-east-1", at); err != nil {
			t.Fatal(err)
		}
		if o := h.do(req); o.err() != nil {
			t.Fatalf("aws signer, key %q, query %q: %v", key, u, o.err())
		}

		// aws-sdk-go-v2, presigned.
		signed, sh := presign(t, http.MethodGet, objectURL(t, h.srv.URL, key, rawQuery(randomQuery(r, false))), time.Hour, nil, at, UnsignedPayload)
		preq, err := http.NewRequest(http.MethodGet, signed, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range sh {
			if k != "Host" {
				preq.Header[k] = vs
			}
		}
		if o := h.do(preq); o.err() != nil {
			t.Fatalf("aws presign, key %q, url %q: %v", key, signed, o.err())
		}

		// minio-go, header signature.
		mreq, err := http.NewRequest(http.MethodPut, objectURL(t, h.srv.URL, key, rawQuery(randomQuery(r, true))), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		mreq.Header.Set("X-Amz-Content-Sha256", sha256hex(body))
		if o := h.do(signer.SignV4(*mreq, testAK, testSecret, "", "us-east-1")); o.err() != nil {
			t.Fatalf("minio signer, key %q, url %q: %v", key, mreq.URL, o.err())
		}
	}
}
