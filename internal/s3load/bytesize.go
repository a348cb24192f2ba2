package s3load

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrBadSize classifies a size string ParseByteSize cannot read.
var ErrBadSize = errors.New("s3load: bad size")

// ByteSize is a number of bytes. It implements flag.Value, so a size flag
// accepts "4KiB", "64KiB", "4MiB", "5GiB", "1.5MiB" or a plain byte count.
type ByteSize int64

// Binary units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
	TiB ByteSize = 1 << 40
)

// units maps a lower-cased unit to its multiplier. The IEC forms and the
// bare letters are binary (K = KiB, as in dd and fio); the SI forms with a
// B are decimal (KB = 1000).
var units = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseByteSize reads a size: a decimal number with an optional fraction,
// then an optional unit (case-insensitive, spaces allowed between). The
// result must be a whole, non-negative number of bytes that fits in an
// int64: "1.5KiB" is 1536, "0.1B" is an error.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" || num[0] == '.' || num[len(num)-1] == '.' || strings.Count(num, ".") > 1 {
		return 0, fmt.Errorf("%w: %q: want a number and a unit such as 64KiB or 4MiB", ErrBadSize, s)
	}
	mult, ok := units[unit]
	if !ok {
		return 0, fmt.Errorf("%w: %q: unknown unit %q (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB)", ErrBadSize, s, unit)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("%w: %q: bad number %q", ErrBadSize, s, num)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("%w: %q: not a whole number of bytes", ErrBadSize, s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("%w: %q: too large", ErrBadSize, s)
	}
	return ByteSize(r.Num().Int64()), nil
}

// String formats b in the largest binary unit that divides it exactly
// ("4MiB", "1536B"), so ParseByteSize(b.String()) == b.
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		size ByteSize
	}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if b != 0 && b%u.size == 0 {
			return fmt.Sprintf("%d%s", b/u.size, u.name)
		}
	}
	return fmt.Sprintf("%dB", int64(b))
}

// Set implements flag.Value.
func (b *ByteSize) Set(s string) error {
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
