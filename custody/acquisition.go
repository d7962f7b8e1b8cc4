package custody

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// Acquisition is what the registering agency reports about how and where an exhibit
// was acquired, in the terms of forensic practice. Every field is optional; the
// gateway checks their form (docs/api.md, "Forensic metadata") but cannot check their
// truth: they are the registering agency's statement, signed into the register event.
type Acquisition struct {
	// ExhibitNumber is the agency's own exhibit (item) number, such as "NL-0042-EX3".
	ExhibitNumber string `json:"exhibit_number,omitempty"`
	// SourceHashes are the digests of the source medium as the acquisition tool
	// reported them: algorithm ("md5", "sha1", "sha256") to lowercase hex. They need
	// not equal the exhibit's SHA-256: the exhibit may be an image container (E01, AFF4)
	// of the medium they describe.
	SourceHashes map[string]string `json:"source_hashes,omitempty"`
	// Tool and ToolVersion name the acquisition tool, such as "FTK Imager", "4.7.1".
	Tool        string `json:"tool,omitempty"`
	ToolVersion string `json:"tool_version,omitempty"`
	// Examiner is who acquired the exhibit.
	Examiner string `json:"examiner,omitempty"`
	// SeizedAt and SeizedPlace are when and where the source was seized.
	SeizedAt    *time.Time `json:"seized_at,omitempty"`
	SeizedPlace string     `json:"seized_place,omitempty"`
	// Notes is free text.
	Notes string `json:"notes,omitempty"`
}

// SourceHashAlgorithms are the algorithms SourceHashes may name, with their digest
// lengths in hex digits.
var SourceHashAlgorithms = map[string]int{"md5": 32, "sha1": 40, "sha256": 64}

var lowerHexRe = regexp.MustCompile(`^[0-9a-f]+$`)

// CheckSourceHash reports whether digest is a well-formed lowercase hex digest of the
// named algorithm.
func CheckSourceHash(algorithm, digest string) error {
	n, ok := SourceHashAlgorithms[algorithm]
	switch {
	case !ok:
		return fmt.Errorf("source hash algorithm %q is not md5, sha1 or sha256", algorithm)
	case len(digest) != n || !lowerHexRe.MatchString(digest):
		return fmt.Errorf("source %s hash is not %d lowercase hex digits", algorithm, n)
	}
	return nil
}

// check checks the form of the acquisition facts a statement carries: known hash
// algorithms with well-formed digests.
func (a *Acquisition) check() error {
	for _, alg := range slices.Sorted(maps.Keys(a.SourceHashes)) {
		if err := CheckSourceHash(alg, a.SourceHashes[alg]); err != nil {
			return err
		}
	}
	return nil
}

// IsZero reports whether a says nothing.
func (a *Acquisition) IsZero() bool {
	return a == nil || a.ExhibitNumber == "" && len(a.SourceHashes) == 0 && a.Tool == "" && a.ToolVersion == "" &&
		a.Examiner == "" && a.SeizedAt == nil && a.SeizedPlace == "" && a.Notes == ""
}
