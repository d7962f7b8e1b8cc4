package storage

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"evidence/ev-01J9ZQ/content", true},
		{"a.b_c-D/0.sealed", true},
		{".hidden/x", true},
		{"..a/b..", true},
		{strings.Repeat("a", MaxNameLen), true},
		{"", false},
		{strings.Repeat("a", MaxNameLen+1), false},
		{"/abs", false},
		{"trailing/", false},
		{"a//b", false},
		{"..", false},
		{"a/../b", false},
		{"./a", false},
		{"a/.", false},
		{`a\b`, false},
		{"a b", false},
		{"a\x00b", false},
		{"é", false},
		{"a:b", false},
		{"a%2fb", false},
	}
	for _, tt := range tests {
		err := CheckName(tt.name)
		if got := err == nil; got != tt.ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want an error wrapping ErrInvalidName", tt.name, err)
		}
	}
}

func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "/a", "a//b", `a\b`, "a/./b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if CheckName(name) != nil {
			return
		}
		// Whatever passes must be a clean relative slash path inside its root.
		if strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
			t.Fatalf("CheckName(%q) accepted a name with an empty segment", name)
		}
		for _, seg := range strings.Split(name, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("CheckName(%q) accepted a dot segment", name)
			}
		}
		if strings.ContainsAny(name, "\\\x00:") || len(name) > MaxNameLen {
			t.Fatalf("CheckName(%q) accepted a forbidden byte or length", name)
		}
	})
}
