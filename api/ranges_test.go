package api

import (
	"errors"
	"math"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		fields []string
		want   *ByteRange
		err    error
	}{
		{nil, nil, nil},
		{[]string{""}, nil, nil},
		{[]string{"bytes=0-"}, &ByteRange{First: 0, Last: -1}, nil},
		{[]string{"bytes=5-9"}, &ByteRange{First: 5, Last: 9}, nil},
		{[]string{"BYTES=5-5"}, &ByteRange{First: 5, Last: 5}, nil},
		{[]string{"bytes=-100"}, &ByteRange{Suffix: 100, IsSuffix: true}, nil},
		{[]string{"bytes= 7- ,"}, &ByteRange{First: 7, Last: -1}, nil},
		{[]string{"bytes=99999999999999999999-"}, &ByteRange{First: math.MaxInt64, Last: -1}, nil},
		{[]string{"items=0-5"}, nil, nil}, // another unit is ignored
		{[]string{"nonsense"}, nil, nil},
		{[]string{"bytes=0-4,6-9"}, nil, ErrRangeMultiple},
		{[]string{"bytes=0-4", "6-9"}, nil, ErrRangeMultiple},
		{[]string{"bytes=5-4"}, nil, ErrRangeInvalid},
		{[]string{"bytes=-"}, nil, ErrRangeInvalid},
		{[]string{"bytes="}, nil, ErrRangeInvalid},
		{[]string{"bytes=a-"}, nil, ErrRangeInvalid},
		{[]string{"bytes=+1-"}, nil, ErrRangeInvalid},
		{[]string{"bytes=1-2-3"}, nil, ErrRangeInvalid},
		{[]string{"bytes=--1"}, nil, ErrRangeInvalid},
		{[]string{"bytes=0x10-"}, nil, ErrRangeInvalid},
		{[]string{"bytes=" + string(make([]byte, 300))}, nil, ErrRangeInvalid},
	}
	for _, tt := range tests {
		got, err := ParseRange(tt.fields...)
		if !errors.Is(err, tt.err) || (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("ParseRange(%q) = %+v, %v; want %+v, %v", tt.fields, got, err, tt.want, tt.err)
		}
	}
}

func TestResolveRange(t *testing.T) {
	const size = 1000
	tests := []struct {
		r       ByteRange
		off, n  int64
		satisfy bool
	}{
		{ByteRange{First: 0, Last: -1}, 0, size, true},
		{ByteRange{First: 0, Last: 0}, 0, 1, true},
		{ByteRange{First: 999, Last: -1}, 999, 1, true},
		{ByteRange{First: 500, Last: 5000}, 500, 500, true},
		{ByteRange{First: 1000, Last: -1}, 0, 0, false},
		{ByteRange{First: math.MaxInt64, Last: -1}, 0, 0, false},
		{ByteRange{Suffix: 1, IsSuffix: true}, 999, 1, true},
		{ByteRange{Suffix: 5000, IsSuffix: true}, 0, size, true},
		{ByteRange{Suffix: 0, IsSuffix: true}, 0, 0, false},
	}
	for _, tt := range tests {
		off, n, ok := tt.r.Resolve(size)
		if ok != tt.satisfy || (ok && (off != tt.off || n != tt.n)) {
			t.Errorf("%s in %d bytes: got [%d, +%d) %v, want [%d, +%d) %v", tt.r, size, off, n, ok, tt.off, tt.n, tt.satisfy)
		}
	}
	if _, _, ok := (ByteRange{First: 0, Last: -1}).Resolve(0); ok {
		t.Error("bytes=0- of an empty representation is satisfiable, want not")
	}
	if _, _, ok := (ByteRange{Suffix: 5, IsSuffix: true}).Resolve(0); ok {
		t.Error("bytes=-5 of an empty representation is satisfiable, want not")
	}
}

func TestContentRange(t *testing.T) {
	if got := FormatContentRange(5, 10, 100); got != "bytes 5-14/100" {
		t.Errorf("FormatContentRange = %q", got)
	}
	if got := FormatUnsatisfiedRange(100); got != "bytes */100" {
		t.Errorf("FormatUnsatisfiedRange = %q", got)
	}
	off, n, size, err := ParseContentRange("bytes 5-14/100")
	if err != nil || off != 5 || n != 10 || size != 100 {
		t.Errorf("ParseContentRange = %d %d %d %v", off, n, size, err)
	}
	for _, bad := range []string{"", "bytes */100", "bytes 5-14/*", "bytes 14-5/100", "bytes 5-100/100", "bits 1-2/3", "bytes 1-2", "bytes -1-2/3"} {
		if _, _, _, err := ParseContentRange(bad); err == nil {
			t.Errorf("ParseContentRange(%q) succeeded, want an error", bad)
		}
	}
}

func TestIfRange(t *testing.T) {
	etag := ContentETag([]byte{0xab, 0xcd})
	if etag != `"abcd"` {
		t.Fatalf("ContentETag = %s", etag)
	}
	for v, want := range map[string]bool{`"abcd"`: true, ` "abcd" `: true, `W/"abcd"`: false, `"abce"`: false,
		"Sat, 01 Jan 2026 00:00:00 GMT": false, "": false} {
		if got := IfRangeMatches(v, etag); got != want {
			t.Errorf("IfRangeMatches(%q) = %v, want %v", v, got, want)
		}
	}
}

// FuzzParseRange: whatever the field, ParseRange does not panic, and a range it accepts
// resolves within the representation or not at all.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=-5", "bytes=5-9", "bytes=1-2,3-4", "bytes=99999999999999999999-1", "x=1-2"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, field string, size int64) {
		if size < 0 {
			size = -size
			if size < 0 {
				size = 0
			}
		}
		r, err := ParseRange(field)
		if err != nil || r == nil {
			return
		}
		off, n, ok := r.Resolve(size)
		if ok && (off < 0 || n < 1 || off+n > size || off > size-n) {
			t.Fatalf("%q resolved in %d bytes to [%d, +%d)", field, size, off, n)
		}
		if !ok {
			return
		}
		back, _, _, err := ParseContentRange(FormatContentRange(off, n, size))
		if err != nil || back != off {
			t.Fatalf("Content-Range of [%d, +%d) of %d does not parse back: %v", off, n, size, err)
		}
	})
}
