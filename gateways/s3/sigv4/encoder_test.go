package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// streamEncoder writes aws-chunked bodies for tests. It is written
// independently of the decoder (its own HMAC code) so the two can check
// each other, and TestEncoderMatchesMinio checks it byte for byte against
// minio-go's encoder. It can also write what no client should: wrong
// sizes, missing pieces, bad signatures.
type streamEncoder struct {
	signed  bool
	key     []byte // signing key
	amzDate string
	scope   string
	prev    string // seed signature, then each chunk's
}

func testHMAC(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// testSigningKey derives the SigV4 key: HMAC("AWS4"+secret, date) → region
// → service → "aws4_request".
func testSigningKey(secret, date, region, service string) []byte {
	k := testHMAC([]byte("AWS4"+secret), date)
	k = testHMAC(k, region)
	k = testHMAC(k, service)
	return testHMAC(k, "aws4_request")
}

func (e *streamEncoder) sign(data []byte) string {
	h := sha256.Sum256(data)
	sts := strings.Join([]string{"AWS4-HMAC-SHA256-PAYLOAD", e.amzDate, e.scope, e.prev,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", hex.EncodeToString(h[:])}, "\n")
	e.prev = hex.EncodeToString(testHMAC(e.key, sts))
	return e.prev
}

// chunk appends one chunk (header, data, CRLF).
func (e *streamEncoder) chunk(b *bytes.Buffer, data []byte) {
	b.WriteString(strconv.FormatInt(int64(len(data)), 16))
	if e.signed {
		b.WriteString(";chunk-signature=" + e.sign(data))
	}
	b.WriteString("\r\n")
	b.Write(data)
	b.WriteString("\r\n")
}

// final appends the zero chunk and the trailer section. trailers are
// written in order as "name:value\r\n"; in signed mode with trailers the
// x-amz-trailer-signature line follows.
func (e *streamEncoder) final(b *bytes.Buffer, trailers [][2]string, withTrailerSection bool) {
	b.WriteString("0")
	if e.signed {
		b.WriteString(";chunk-signature=" + e.sign(nil))
	}
	b.WriteString("\r\n")
	if !withTrailerSection {
		b.WriteString("\r\n")
		return
	}
	var canon strings.Builder
	for _, t := range trailers {
		b.WriteString(t[0] + ":" + t[1] + "\r\n")
		canon.WriteString(t[0] + ":" + t[1] + "\n")
	}
	if e.signed {
		h := sha256.Sum256([]byte(canon.String()))
		sts := strings.Join([]string{"AWS4-HMAC-SHA256-TRAILER", e.amzDate, e.scope, e.prev, hex.EncodeToString(h[:])}, "\n")
		e.prev = hex.EncodeToString(testHMAC(e.key, sts))
		b.WriteString("x-amz-trailer-signature:" + e.prev + "\r\n")
	}
	b.WriteString("\r\n")
}

// encode splits data at the given chunk sizes (the rest in one more chunk)
// and returns the whole body.
func (e *streamEncoder) encode(data []byte, sizes []int, trailers [][2]string, withTrailerSection bool) []byte {
	var b bytes.Buffer
	for _, n := range sizes {
		if n <= 0 || n > len(data) {
			break
		}
		e.chunk(&b, data[:n])
		data = data[n:]
	}
	if len(data) > 0 {
		e.chunk(&b, data)
	}
	e.final(&b, trailers, withTrailerSection)
	return b.Bytes()
}
