package storage

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidName is returned when an object name breaks the naming rules of CheckName.
var ErrInvalidName = errors.New("invalid object name")

// MaxNameLen is the longest object name accepted, in bytes.
const MaxNameLen = 1024

// CheckName reports whether name is a valid object name, with an error wrapping
// ErrInvalidName that says why if it is not.
//
// A valid name is 1 to MaxNameLen bytes of [A-Za-z0-9._/-], made of one or more
// segments separated by single slashes: no leading or trailing slash, no empty
// segment, no "." or ".." segment. Every backend accepts the same names, so an object
// can move between stores unchanged and no name can escape a local store's directory.
func CheckName(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidName, name, err)
	}
	return nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%d bytes long, more than %d", len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return fmt.Errorf("byte %#02x at offset %d is not in [A-Za-z0-9._/-]", name[i], i)
		}
	}
	for seg := range strings.SplitSeq(name, "/") {
		switch seg {
		case "":
			return errors.New("empty path segment (leading, trailing or double slash)")
		case ".", "..":
			return fmt.Errorf("%q path segment", seg)
		}
	}
	return nil
}

func nameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '/'
}
