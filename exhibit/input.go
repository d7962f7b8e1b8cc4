package exhibit

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Input bounds.
const (
	maxDescription = 1024
	maxLegalBasis  = 512
	maxReason      = 512
	// maxGrantLifetime bounds how far in the future a grant may expire.
	maxGrantLifetime = 5 * 365 * 24 * time.Hour
)

// checkText checks free text that goes into a custody event (docs/api.md, "Free
// text"): required text is not blank, it fits in max bytes, it is valid UTF-8, and it
// holds no character that is invisible or changes how the text around it reads: no
// control character (tab and line breaks included), no format character (the
// bidirectional embeddings, overrides and isolates, zero-width spaces and joiners, the
// byte order mark, soft hyphens...), no line or paragraph separator, no private-use,
// surrogate or unassigned code point. Such text is refused, not cleaned: what is
// signed is exactly what was sent.
func checkText(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid("%s is required", field)
	case len(v) > max:
		return invalid("%s is longer than %d bytes", field, max)
	case !utf8.ValidString(v):
		return invalid("%s is not valid UTF-8", field)
	}
	for i, r := range v {
		if hiddenRune(r) {
			return invalid("%s holds %U at byte %d, a character that is invisible or changes how the text reads: not allowed in custody text", field, r, i)
		}
	}
	return nil
}

// hiddenRune reports whether r may not appear in custody text.
func hiddenRune(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp) ||
		!unicode.Is(unicode.L, r) && !unicode.In(r, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) // unassigned
}

func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// newUploadID returns a fresh random upload session id (128 bits).
func newUploadID() string { return newID("up-", 16)[:3+26] }

// validUploadID reports whether id has the form of an upload session id.
func validUploadID(id string) bool {
	if len(id) != 3+26 || !strings.HasPrefix(id, "up-") {
		return false
	}
	return strings.Trim(id[3:], "abcdefghijklmnopqrstuvwxyz234567") == ""
}

// newEvidenceID returns a fresh random evidence id (128 bits).
func newEvidenceID() string { return newID("ev-", 16)[:3+26] }

func newGrantID() string { return newID("gr-", 10)[:3+16] }
