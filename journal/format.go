package journal

// The on-disk format (see doc.go for the specification). Everything in this
// file is pure: no I/O, no clock, no logger, so it can be tested and fuzzed
// exhaustively.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"

	"github.com/ferrydr/ferry/journal/journalpb"
)

const (
	segMagic   = "FYJL"
	segVersion = 1
	// segHeaderSize is the size of the segment header.
	segHeaderSize = 32

	// frameHeaderSize is the length and CRC that precede every record body.
	frameHeaderSize = 8
	// bodyHeaderSize is the fixed part of a record body.
	bodyHeaderSize = 25
	// minFrameSize is the smallest possible record on disk.
	minFrameSize = frameHeaderSize + bodyHeaderSize

	// maxRawBytes bounds the uncompressed payload of one record (one
	// Append batch), so a damaged length never makes a reader allocate
	// gigabytes.
	maxRawBytes = 256 << 20
	// maxBodyBytes bounds a record body on disk. zstd never expands input
	// by more than a small margin, and incompressible batches are stored
	// raw.
	maxBodyBytes = bodyHeaderSize + maxRawBytes

	// flagZstd marks a payload compressed with zstd.
	flagZstd = 1 << 0
	// knownFlags are the flag bits this version understands.
	knownFlags = flagZstd

	// compressMin is the raw payload size below which a batch is stored
	// uncompressed.
	compressMin = 128

	segSuffix = ".seg"
	tmpSuffix = ".tmp"
	// segNameDigits is the width of the zero-padded first index in a
	// segment name: enough for every uint64.
	segNameDigits = 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// codec errors; callers wrap them with ErrCorrupt, the file and the offset.
var (
	// errIncomplete: the bytes end before the frame does (a torn tail when
	// nothing valid follows).
	errIncomplete = errors.New("incomplete record")
	// errBadFrame: the frame is complete but fails its checks.
	errBadFrame = errors.New("bad record")
	// errGap: a valid record that does not continue the index sequence (a
	// misdirected or stale write); never a torn tail.
	errGap = errors.New("index gap")
)

// segName returns the file name of the segment whose first index is first.
func segName(first uint64) string {
	return fmt.Sprintf("%0*d%s", segNameDigits, first, segSuffix)
}

// parseSegName returns the first index a segment file name declares.
func parseSegName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) != segNameDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// segHeader is the fixed header at offset 0 of every segment file.
type segHeader struct {
	First      uint64 // first index of the segment; equals the file name
	Generation uint64 // bumped by every Reset; older generations are leftovers
}

// appendSegHeader appends the encoded header to dst.
func appendSegHeader(dst []byte, h segHeader) []byte {
	start := len(dst)
	dst = append(dst, segMagic...)
	dst = binary.LittleEndian.AppendUint16(dst, segVersion)
	dst = binary.LittleEndian.AppendUint16(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, h.First)
	dst = binary.LittleEndian.AppendUint64(dst, h.Generation)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeSegHeader decodes and checks a segment header. The returned salt
// seeds the CRC of every record in the segment.
func decodeSegHeader(b []byte) (segHeader, uint32, error) {
	if len(b) < segHeaderSize {
		return segHeader{}, 0, fmt.Errorf("%w: segment header has %d bytes, want %d", errIncomplete, len(b), segHeaderSize)
	}
	b = b[:segHeaderSize]
	want := binary.LittleEndian.Uint32(b[28:])
	if got := crc32.Checksum(b[:28], castagnoli); got != want {
		return segHeader{}, 0, fmt.Errorf("%w: segment header checksum %08x, want %08x", errBadFrame, got, want)
	}
	if string(b[:4]) != segMagic {
		return segHeader{}, 0, fmt.Errorf("%w: segment magic %q", errBadFrame, b[:4])
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != segVersion {
		return segHeader{}, 0, fmt.Errorf("%w: segment version %d, this build reads %d", errBadFrame, v, segVersion)
	}
	if binary.LittleEndian.Uint16(b[6:]) != 0 || binary.LittleEndian.Uint32(b[24:]) != 0 {
		return segHeader{}, 0, fmt.Errorf("%w: reserved segment header bytes are not zero", errBadFrame)
	}
	h := segHeader{First: binary.LittleEndian.Uint64(b[8:]), Generation: binary.LittleEndian.Uint64(b[16:])}
	if h.First == 0 {
		return segHeader{}, 0, fmt.Errorf("%w: segment first index 0", errBadFrame)
	}
	return h, want, nil
}

// recordHeader is the fixed part of a record body.
type recordHeader struct {
	First   uint64 // index of the first event
	Count   uint32 // number of events, at least 1
	Flags   uint8
	RawLen  uint32 // length of the uncompressed payload
	MaxWall int64  // largest HLC wall time (ns) of the events; retention reads it
}

// Last returns the index of the record's last event.
func (h recordHeader) Last() uint64 { return h.First + uint64(h.Count) - 1 }

// frameCRC is the checksum of a frame: CRC32C seeded with the segment's
// salt, over the 4 length bytes, then the body.
func frameCRC(salt uint32, lenBytes, body []byte) uint32 {
	c := crc32.Update(salt, castagnoli, lenBytes)
	return crc32.Update(c, castagnoli, body)
}

// parseFrameHeader reads the body length of the frame at the start of b.
func parseFrameHeader(b []byte) (int, error) {
	if len(b) < frameHeaderSize {
		return 0, errIncomplete
	}
	n := binary.LittleEndian.Uint32(b)
	if n < bodyHeaderSize || n > maxBodyBytes {
		return 0, fmt.Errorf("%w: body length %d out of range [%d, %d]", errBadFrame, n, bodyHeaderSize, maxBodyBytes)
	}
	return int(n), nil
}

// decodeFrame decodes the frame at the start of b, written into a segment
// with the given salt. It returns the header, the payload (aliasing b) and
// the frame's length. It does not decompress the payload.
func decodeFrame(salt uint32, b []byte) (recordHeader, []byte, int, error) {
	n, err := parseFrameHeader(b)
	if err != nil {
		return recordHeader{}, nil, 0, err
	}
	if len(b) < frameHeaderSize+n {
		return recordHeader{}, nil, 0, errIncomplete
	}
	body := b[frameHeaderSize : frameHeaderSize+n]
	want := binary.LittleEndian.Uint32(b[4:])
	if got := frameCRC(salt, b[:4], body); got != want {
		return recordHeader{}, nil, 0, fmt.Errorf("%w: checksum %08x, want %08x", errBadFrame, got, want)
	}
	h, payload, err := decodeBody(body)
	if err != nil {
		return recordHeader{}, nil, 0, err
	}
	return h, payload, frameHeaderSize + n, nil
}

// decodeBody checks the fixed fields of a record body.
func decodeBody(body []byte) (recordHeader, []byte, error) {
	if len(body) < bodyHeaderSize {
		return recordHeader{}, nil, fmt.Errorf("%w: body of %d bytes", errBadFrame, len(body))
	}
	h := recordHeader{
		First:   binary.LittleEndian.Uint64(body[0:]),
		Count:   binary.LittleEndian.Uint32(body[8:]),
		Flags:   body[12],
		RawLen:  binary.LittleEndian.Uint32(body[13:]),
		MaxWall: int64(binary.LittleEndian.Uint64(body[17:])),
	}
	payload := body[bodyHeaderSize:]
	switch {
	case h.First == 0:
		return recordHeader{}, nil, fmt.Errorf("%w: first index 0", errBadFrame)
	case h.Count == 0:
		return recordHeader{}, nil, fmt.Errorf("%w: empty batch", errBadFrame)
	case h.First > math.MaxUint64-uint64(h.Count):
		return recordHeader{}, nil, fmt.Errorf("%w: index overflow", errBadFrame)
	case h.Flags&^knownFlags != 0:
		return recordHeader{}, nil, fmt.Errorf("%w: unknown flags %#x", errBadFrame, h.Flags)
	case h.RawLen > maxRawBytes || h.RawLen < h.Count:
		return recordHeader{}, nil, fmt.Errorf("%w: raw length %d for %d events", errBadFrame, h.RawLen, h.Count)
	case h.Flags&flagZstd == 0 && len(payload) != int(h.RawLen):
		return recordHeader{}, nil, fmt.Errorf("%w: raw payload of %d bytes, header says %d", errBadFrame, len(payload), h.RawLen)
	}
	return h, payload, nil
}

// codecs are the encoder and decoder every journal shares; EncodeAll and
// DecodeAll are safe for concurrent use and start no goroutines.
var codecs = sync.OnceValue(func() struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
} {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), // the frame has its own CRC
		zstd.WithEncoderConcurrency(1),
		zstd.WithZeroFrames(true))
	if err != nil {
		panic(fmt.Sprintf("journal: zstd encoder: %v", err)) // constant options: a programming error
	}
	dec, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(maxRawBytes))
	if err != nil {
		panic(fmt.Sprintf("journal: zstd decoder: %v", err))
	}
	return struct {
		enc *zstd.Encoder
		dec *zstd.Decoder
	}{enc, dec}
})

// appendRawEvent appends one length-prefixed event to raw.
func appendRawEvent(raw []byte, ev *journalpb.Event) ([]byte, error) {
	n := proto.Size(ev)
	raw = binary.AppendUvarint(raw, uint64(n))
	start := len(raw)
	raw, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(raw, ev)
	if err != nil {
		return raw, err
	}
	if len(raw)-start != n {
		return raw, fmt.Errorf("event changed while it was encoded (%d bytes, then %d)", n, len(raw)-start)
	}
	return raw, nil
}

// appendFrame appends a complete frame holding raw (count length-prefixed
// events starting at index first) to dst, compressing raw when that pays.
// REQUIRES: count >= 1, len(raw) <= maxRawBytes.
func appendFrame(dst []byte, salt uint32, first uint64, count uint32, maxWall int64, raw []byte) []byte {
	start := len(dst)
	dst = appendUnsealedFrame(dst, first, count, maxWall, raw)
	sealFrame(dst[start:], salt)
	return dst
}

// appendUnsealedFrame is appendFrame without the checksum, which depends on
// the segment the frame goes to; sealFrame adds it.
func appendUnsealedFrame(dst []byte, first uint64, count uint32, maxWall int64, raw []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeaderSize)...)
	dst = binary.LittleEndian.AppendUint64(dst, first)
	dst = binary.LittleEndian.AppendUint32(dst, count)
	flagsAt := len(dst)
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(raw)))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(maxWall))
	payloadAt := len(dst)
	stored := false
	if len(raw) >= compressMin {
		dst = codecs().enc.EncodeAll(raw, dst)
		if len(dst)-payloadAt < len(raw) {
			dst[flagsAt] = flagZstd
			stored = true
		} else {
			dst = dst[:payloadAt]
		}
	}
	if !stored {
		dst = append(dst, raw...)
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start-frameHeaderSize))
	return dst
}

// sealFrame writes the checksum of the frame for a segment with salt.
func sealFrame(frame []byte, salt uint32) {
	binary.LittleEndian.PutUint32(frame[4:], frameCRC(salt, frame[:4], frame[frameHeaderSize:]))
}

// rawPayload returns the uncompressed payload of a record, using scratch
// for decompression when it is large enough.
func rawPayload(h recordHeader, payload, scratch []byte) ([]byte, error) {
	if h.Flags&flagZstd == 0 {
		return payload, nil
	}
	raw, err := codecs().dec.DecodeAll(payload, scratch[:0])
	if err != nil {
		return raw, fmt.Errorf("%w: zstd: %w", errBadFrame, err)
	}
	if len(raw) != int(h.RawLen) {
		return raw, fmt.Errorf("%w: payload decompressed to %d bytes, header says %d", errBadFrame, len(raw), h.RawLen)
	}
	return raw, nil
}

// eventIter walks the length-prefixed events of a raw payload.
type eventIter struct {
	raw  []byte
	left uint32
}

// next returns the encoding of the next event, aliasing the payload.
func (it *eventIter) next() ([]byte, error) {
	if it.left == 0 {
		return nil, nil
	}
	n, k := binary.Uvarint(it.raw)
	if k <= 0 || n > uint64(len(it.raw)-k) {
		return nil, fmt.Errorf("%w: event length prefix out of range", errBadFrame)
	}
	b := it.raw[k : k+int(n)]
	it.raw = it.raw[k+int(n):]
	it.left--
	if it.left == 0 && len(it.raw) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last event", errBadFrame, len(it.raw))
	}
	return b, nil
}

// decodeRecord decodes every event of a frame's payload into new
// allocations; it is the whole read path of one record, used by the fuzz
// tests.
func decodeRecord(h recordHeader, payload, scratch []byte) ([]Record, error) {
	raw, err := rawPayload(h, payload, scratch)
	if err != nil {
		return nil, err
	}
	it := eventIter{raw: raw, left: h.Count}
	recs := make([]Record, 0, h.Count)
	for i := range h.Count {
		b, err := it.next()
		if err != nil {
			return nil, err
		}
		ev := new(journalpb.Event)
		if err := proto.Unmarshal(b, ev); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", errBadFrame, h.First+uint64(i), err)
		}
		recs = append(recs, Record{Index: h.First + uint64(i), Event: ev})
	}
	return recs, nil
}
