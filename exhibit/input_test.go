package exhibit

import (
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string // want "" = accepted
	}{
		{"plain", "MLAT request 2026/117", ""},
		{"accents, CJK, emoji", "Ordonnance d'enquête européenne – 捜査 📁", ""},
		{"blank when required", "   ", "is required"},
		{"too long", strings.Repeat("x", 65), "longer than 64"},
		{"invalid UTF-8", "a\xffb", "not valid UTF-8"},
		{"newline", "a\nb", "U+000A"},
		{"tab", "a\tb", "U+0009"},
		{"right-to-left override", "EIO 2026/\u202e71", "U+202E"},
		{"left-to-right isolate", "a\u2066b", "U+2066"},
		{"zero-width space", "MLAT\u200b 2026", "U+200B"},
		{"zero-width joiner", "a\u200db", "U+200D"},
		{"byte order mark", "\ufeffMLAT", "U+FEFF"},
		{"soft hyphen", "ab\u00adcd", "U+00AD"},
		{"line separator", "a\u2028b", "U+2028"},
		{"private use", "a\ue000b", "U+E000"},
		{"unassigned", "a\U000e0fffb", "U+E0FFF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkText("legal_basis", tt.in, 64, true)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkText(%q) = %v, want it accepted", tt.in, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkText(%q) = %v, want an error mentioning %s", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzCheckText(f *testing.F) {
	f.Add("MLAT request 2026/117")
	f.Add("a\u202eb")
	f.Fuzz(func(t *testing.T, s string) {
		if checkText("f", s, 1<<10, false) != nil {
			return
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0xfeff {
				t.Fatalf("accepted %q holding %U", s, r)
			}
		}
	})
}
