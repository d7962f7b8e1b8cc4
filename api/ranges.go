package api

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range requests of the content endpoint (RFC 9110 section 14). The standard library
// has a range parser, but unexported and bound to http.ServeContent, which answers
// errors in plain text and cannot abort a stream that fails midway; so the few lines of
// the grammar the gateway accepts are parsed here, for the gateway and the client alike,
// and fuzzed.

// maxRangeHeader bounds the Range field the gateway reads: one range needs a few dozen
// bytes.
const maxRangeHeader = 256

var (
	// ErrRangeInvalid is a Range field of unit bytes that does not parse.
	ErrRangeInvalid = errors.New("the Range field is not a valid bytes range")
	// ErrRangeMultiple is a Range field with more than one range: the gateway serves
	// one range per request.
	ErrRangeMultiple = errors.New("the Range field asks for more than one range; ask for one range per request")
)

// ByteRange is the one range of a Range field: bytes First to Last inclusive (Last -1:
// to the end), or, when Suffix is set, the last Suffix bytes.
type ByteRange struct {
	First, Last int64
	Suffix      int64
	IsSuffix    bool
}

// String renders the range as a Range field value.
func (r ByteRange) String() string {
	switch {
	case r.IsSuffix:
		return fmt.Sprintf("bytes=-%d", r.Suffix)
	case r.Last < 0:
		return fmt.Sprintf("bytes=%d-", r.First)
	}
	return fmt.Sprintf("bytes=%d-%d", r.First, r.Last)
}

// ParseRange parses the values of a request's Range field lines. It returns nil and no
// error when there is no field, or when its unit is not bytes (RFC 9110 section 14.2:
// a range unit the server does not support is ignored). A bytes range that does not
// parse is ErrRangeInvalid, more than one range ErrRangeMultiple.
func ParseRange(fields ...string) (*ByteRange, error) {
	v := strings.TrimSpace(strings.Join(fields, ","))
	if v == "" {
		return nil, nil
	}
	unit, set, ok := strings.Cut(v, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, nil
	}
	if len(v) > maxRangeHeader {
		return nil, ErrRangeInvalid
	}
	var specs []string
	for s := range strings.SplitSeq(set, ",") {
		if s = strings.TrimSpace(s); s != "" { // RFC 9110 section 5.6.1: empty list elements are ignored
			specs = append(specs, s)
		}
	}
	switch {
	case len(specs) == 0:
		return nil, ErrRangeInvalid
	case len(specs) > 1:
		return nil, ErrRangeMultiple
	}
	return parseSpec(specs[0])
}

// parseSpec parses one int-range or suffix-range.
func parseSpec(s string) (*ByteRange, error) {
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		return nil, ErrRangeInvalid
	}
	if first == "" {
		n, ok := parsePos(last)
		if !ok {
			return nil, ErrRangeInvalid
		}
		return &ByteRange{Suffix: n, IsSuffix: true}, nil
	}
	f, ok := parsePos(first)
	if !ok {
		return nil, ErrRangeInvalid
	}
	r := &ByteRange{First: f, Last: -1}
	if last != "" {
		l, ok := parsePos(last)
		if !ok || l < f {
			return nil, ErrRangeInvalid
		}
		r.Last = l
	}
	return r, nil
}

// parsePos parses 1*DIGIT; a number too large for int64 is read as the largest one,
// which no representation reaches.
func parsePos(s string) (int64, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, true
	}
	return n, true
}

// Resolve returns the offset and length of r in a representation of size bytes, or
// false if r is unsatisfiable: it starts at or past the end, or asks for the last 0
// bytes (RFC 9110 section 14.1.2).
func (r ByteRange) Resolve(size int64) (off, n int64, ok bool) {
	if r.IsSuffix {
		if r.Suffix == 0 || size == 0 {
			return 0, 0, false
		}
		n = min(r.Suffix, size)
		return size - n, n, true
	}
	if r.First >= size {
		return 0, 0, false
	}
	last := size - 1
	if r.Last >= 0 && r.Last < last {
		last = r.Last
	}
	return r.First, last - r.First + 1, true
}

// FormatContentRange returns the Content-Range value of a 206 answer holding n bytes
// from off of a size-byte representation: "bytes off-(off+n-1)/size".
func FormatContentRange(off, n, size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size)
}

// FormatUnsatisfiedRange returns the Content-Range value of a 416 answer: "bytes */size".
func FormatUnsatisfiedRange(size int64) string { return fmt.Sprintf("bytes */%d", size) }

// ParseContentRange parses a 206 answer's Content-Range "bytes first-last/size" into the
// offset, length and complete size. The complete size must be known ("*" is refused).
func ParseContentRange(v string) (off, n, size int64, err error) {
	bad := fmt.Errorf("malformed Content-Range %q", v)
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	rng, total, ok := strings.Cut(rest, "/")
	first, last, ok2 := strings.Cut(rng, "-")
	if !ok || !ok2 {
		return 0, 0, 0, bad
	}
	var okF, okL, okS bool
	off, okF = parseExact(first)
	l, okL := parseExact(last)
	size, okS = parseExact(total)
	if !okF || !okL || !okS || l < off || l >= size {
		return 0, 0, 0, bad
	}
	return off, l - off + 1, size, nil
}

// parseExact parses 1*DIGIT that fits an int64.
func parseExact(s string) (int64, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ContentETag is the entity tag of an exhibit's content: its registered SHA-256 in
// hex, quoted. Content never changes, so the tag is strong.
func ContentETag(sha256 []byte) string { return `"` + hex.EncodeToString(sha256) + `"` }

// IfRangeMatches reports whether an If-Range field value selects the representation
// whose strong entity tag is etag (RFC 9110 section 13.1.5): only an identical strong
// tag does; a weak tag or a date does not, and the whole representation is sent.
func IfRangeMatches(ifRange, etag string) bool {
	return strings.TrimSpace(ifRange) == etag
}
