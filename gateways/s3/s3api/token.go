package s3api

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"unicode/utf8"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

// Continuation tokens are opaque to clients. The encoding, base64url
// without padding, of:
//
//	version byte (1)
//	uvarint len(key), key
//	uvarint len(versionID), versionID
//	CRC-32C (Castagnoli) of everything before it, 4 bytes big-endian
//
// The checksum makes a mistyped or truncated token fail to decode instead
// of silently naming another key.
const (
	tokenVersion = 1
	// maxTokenLength bounds the encoded tokens DecodeContinuationToken
	// reads: a 1024-byte key and version id fit in under 3000 characters.
	maxTokenLength = 4096
)

// EncodeContinuationToken returns the ListObjectsV2 continuation token that
// resumes a listing after key (and, for version listings, versionID).
func EncodeContinuationToken(key, versionID string) string {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(key)+len(versionID)+4)
	b = append(b, tokenVersion)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(versionID)))
	b = append(b, versionID...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeContinuationToken reverses EncodeContinuationToken. A token that is
// not one of ours (bad base64, unknown version, bad checksum, bad lengths,
// a key that is not valid UTF-8 or longer than MaxKeyLength) is
// InvalidArgument, as S3 answers.
func DecodeContinuationToken(token string) (key, versionID string, err error) {
	bad := s3err.ErrInvalidArgument.With("The continuation token provided is incorrect.")
	if token == "" || len(token) > maxTokenLength {
		return "", "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 1+1+1+4 || b[0] != tokenVersion {
		return "", "", bad
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return "", "", bad
	}
	rest := body[1:]
	field := func() (string, bool) {
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > MaxKeyLength || n > uint64(len(rest)-w) {
			return "", false
		}
		s := string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
		return s, true
	}
	key, ok1 := field()
	versionID, ok2 := field()
	if !ok1 || !ok2 || len(rest) != 0 || !utf8.ValidString(key) {
		return "", "", bad
	}
	return key, versionID, nil
}
