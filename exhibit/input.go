package exhibit

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
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

// checkText checks free text that goes into a custody event.
func checkText(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid("%s is required", field)
	case len(v) > max:
		return invalid("%s is longer than %d bytes", field, max)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' }):
		return invalid("%s must be UTF-8 text without control characters", field)
	}
	return nil
}

func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// newEvidenceID returns a fresh random evidence id (128 bits).
func newEvidenceID() string { return newID("ev-", 16)[:3+26] }

func newGrantID() string { return newID("gr-", 10)[:3+16] }
