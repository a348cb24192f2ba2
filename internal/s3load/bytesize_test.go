package s3load

import (
	"errors"
	"flag"
	"io"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ByteSize
	}{
		{"0", 0},
		{"4096", 4096},
		{"512B", 512},
		{"4KiB", 4 << 10},
		{"64KiB", 64 << 10},
		{"4MiB", 4 << 20},
		{"5GiB", 5 << 30},
		{"2TiB", 2 << 40},
		{"4kib", 4 << 10},
		{"4 MiB", 4 << 20},
		{" 16MiB ", 16 << 20},
		{"4K", 4 << 10},
		{"4M", 4 << 20},
		{"1G", 1 << 30},
		{"4KB", 4000},
		{"4MB", 4_000_000},
		{"5GB", 5_000_000_000},
		{"1.5KiB", 1536},
		{"0.5MiB", 512 << 10},
		{"2.25GiB", 9 << 28},
		{"1.5MB", 1_500_000},
		{"8388607TiB", 8388607 << 40},
	} {
		got, err := ParseByteSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseByteSizeErrors(t *testing.T) {
	for _, in := range []string{
		"", "MiB", "-4KiB", "4XiB", "4 MiBs", "1.2.3KiB", ".5KiB", "5.KiB",
		"0.1B", "1.0001KiB", "8388608TiB", "99999999999999999999", "1e3", "0x10", "4 KiB extra",
	} {
		if got, err := ParseByteSize(in); !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseByteSize(%q) = %d, %v; want ErrBadSize", in, got, err)
		}
	}
}

func TestByteSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   ByteSize
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1000, "1000B"},
		{1536, "1536B"},
		{4 * KiB, "4KiB"},
		{1536 * KiB, "1536KiB"},
		{4 * MiB, "4MiB"},
		{5 * GiB, "5GiB"},
		{3 * TiB, "3TiB"},
		{100*KiB + 3, "102403B"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
		}
	}
}

func TestByteSizeFlag(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	size := 4 * MiB
	fs.Var(&size, "size", "")
	if err := fs.Parse([]string{"-size", "64KiB"}); err != nil || size != 64*KiB {
		t.Fatalf("-size 64KiB: %v, %v", size, err)
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse([]string{"-size", "lots"}); err == nil {
		t.Fatal("-size lots parsed")
	}
}

func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"4KiB", "1.5MiB", "5GB", "0", "8388607TiB", "1.0001KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseByteSize(s)
		if err != nil {
			if !errors.Is(err, ErrBadSize) {
				t.Fatalf("ParseByteSize(%q): unclassified error %v", s, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, negative", s, v)
		}
		if back, err := ParseByteSize(v.String()); err != nil || back != v {
			t.Fatalf("ParseByteSize(%q) = %d; its String %q parses to %d, %v", s, v, v.String(), back, err)
		}
	})
}
