package s3api

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/ferrydr/ferry/gateways/s3/s3err"
)

func TestContinuationToken(t *testing.T) {
	for _, tc := range []struct{ key, version string }{
		{"a", ""},
		{"photos/2006/February/sample.jpg", ""},
		{"k", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"},
		{"日本語 key+/?=&", "null"},
		{strings.Repeat("k", MaxKeyLength), strings.Repeat("v", MaxKeyLength)},
		{"", ""},
	} {
		tok := EncodeContinuationToken(tc.key, tc.version)
		if strings.ContainsAny(tok, "+/=") {
			t.Fatalf("token %q is not URL-safe", tok)
		}
		k, v, err := DecodeContinuationToken(tok)
		checkErr(t, err, nil)
		if k != tc.key || v != tc.version {
			t.Fatalf("round trip (%q, %q) -> (%q, %q)", tc.key, tc.version, k, v)
		}
	}
}

func TestContinuationTokenRejects(t *testing.T) {
	good := EncodeContinuationToken("key", "v")
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	enc := base64.RawURLEncoding.EncodeToString
	for name, tok := range map[string]string{
		"empty":          "",
		"not base64":     "!!!",
		"padded base64":  base64.URLEncoding.EncodeToString(raw),
		"std base64":     "a+b/",
		"truncated":      good[:len(good)-2],
		"extended":       good + "AA",
		"version":        flip(0),
		"key length":     flip(1),
		"key byte":       flip(2),
		"checksum":       flip(len(raw) - 1),
		"short":          enc([]byte{1, 0, 0}),
		"too long":       strings.Repeat("A", 5000),
		"s3 style token": "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
	} {
		_, _, err := DecodeContinuationToken(tok)
		if err == nil {
			t.Fatalf("%s: %q decoded", name, tok)
		}
		checkErr(t, err, s3err.ErrInvalidArgument)
	}
}

// signed builds a token from raw payload bytes with a valid checksum, to
// reach the structural checks behind it.
func signed(payload ...byte) string {
	b := append([]byte(nil), payload...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestContinuationTokenStructure(t *testing.T) {
	long := binary.AppendUvarint([]byte{1}, MaxKeyLength+1)
	long = append(long, make([]byte, MaxKeyLength+1)...)
	long = append(long, 0)
	for name, tok := range map[string]string{
		"bad utf-8 key":   signed(1, 1, 0xff, 0),
		"key too long":    signed(long...),
		"length overruns": signed(1, 5, 'a', 0),
		"trailing bytes":  signed(1, 1, 'a', 0, 'x'),
		"no version":      signed(1, 1, 'a'),
		"bad varint":      signed(1, 0x80, 0x80, 0x80),
		"unknown version": signed(2, 1, 'a', 0),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := DecodeContinuationToken(tok)
			checkErr(t, err, s3err.ErrInvalidArgument)
		})
	}
	k, v, err := DecodeContinuationToken(signed(1, 1, 'a', 1, 'b'))
	checkErr(t, err, nil)
	if k != "a" || v != "b" {
		t.Fatalf("(%q, %q)", k, v)
	}
}
