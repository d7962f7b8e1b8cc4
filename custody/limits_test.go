package custody

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// pad returns b followed by white space up to n bytes: the same JSON document, n bytes
// long. It fills one allocation by doubling copies: the bundle's case pads to 64 MiB, and
// appending a bytes.Repeat of that faulted in four times the memory, which took most of
// the package's test time (and of every mutant's run in scripts/mutation).
func pad(b []byte, n int) []byte {
	p := make([]byte, n)
	copy(p, b)
	if len(b) < n {
		p[len(b)] = ' '
		for filled := len(b) + 1; filled < n; {
			filled += copy(p[filled:], p[len(b):filled])
		}
	}
	return p
}

// TestSizeLimits: every parser of outside input accepts a document of exactly its
// limit and refuses one byte more, before decoding it.
func TestSizeLimits(t *testing.T) {
	x := newSignedExhibit(t, nil)
	bundle, err := x.bundle(t, x.logLeaves(otherLeaf(1))).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	trustRoot, err := x.tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	envelope, err := json.Marshal(x.envelopes[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		doc   []byte
		limit int
		parse func([]byte) error
		what  string
	}{
		{"bundle", bundle, MaxBundleSize, func(b []byte) error { _, err := ParseBundle(b); return err }, "bundle"},
		{"trust root", trustRoot, MaxTrustRootSize, func(b []byte) error { _, err := ParseTrustRoot(b); return err }, "trust root"},
		{"statement", x.statements[0], MaxStatementSize, func(b []byte) error { _, err := ParseStatement(b); return err }, "statement"},
		{"envelope", envelope, MaxEnvelopeSize, func(b []byte) error { _, err := ParseEnvelope(b); return err }, "envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := pad(tt.doc, tt.limit+1)
			if err := tt.parse(doc[:tt.limit]); err != nil {
				t.Errorf("%d bytes: got %v, want no error", tt.limit, err)
			}
			want := fmt.Sprintf("%s of %d bytes exceeds %d", tt.what, tt.limit+1, tt.limit)
			if err := tt.parse(doc); err == nil || err.Error() != want {
				t.Errorf("%d bytes: got %v, want %q", tt.limit+1, err, want)
			}
		})
	}
}

// TestStatementMarshalLimit: the gateway never writes a statement a verifier would
// refuse as too large.
func TestStatementMarshalLimit(t *testing.T) {
	s := validStatement()
	base, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Detail is empty (omitted); with n bytes of detail the encoding grows by
	// len(`,"detail":""`) + n.
	n := MaxStatementSize - len(base) - len(`,"detail":""`)
	s.Predicate.Detail = strings.Repeat("d", n)
	if b, err := s.Marshal(); err != nil || len(b) != MaxStatementSize {
		t.Fatalf("statement of %d bytes: got %d bytes, %v; want it encoded", MaxStatementSize, len(b), err)
	}
	s.Predicate.Detail += "d"
	want := fmt.Sprintf("statement of %d bytes exceeds %d", MaxStatementSize+1, MaxStatementSize)
	if _, err := s.Marshal(); err == nil || err.Error() != want {
		t.Errorf("statement of %d bytes: got %v, want %q", MaxStatementSize+1, err, want)
	}
}

func TestParseEnvelope(t *testing.T) {
	x := newSignedExhibit(t, nil)
	tests := []struct {
		name    string
		edit    func(e map[string]any)
		wantErr string // "" = parses
	}{
		{"valid", func(map[string]any) {}, ""},
		{"other payload type", func(e map[string]any) { e["payloadType"] = "application/json" },
			`envelope payload type "application/json", want "application/vnd.in-toto+json"`},
		{"no signature", func(e map[string]any) { e["signatures"] = []any{} }, "envelope has no signature"},
		{"signatures null", func(e map[string]any) { e["signatures"] = nil }, "envelope has no signature"},
		{"unknown member", func(e map[string]any) { e["extra"] = 1 }, "decoding envelope: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := json.Marshal(x.envelopes[0])
			var e map[string]any
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			tt.edit(e)
			raw, _ = json.Marshal(e)
			env, err := ParseEnvelope(raw)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.wantErr == "" && (env.Payload != x.envelopes[0].Payload || len(env.Signatures) != 1):
				t.Errorf("got %+v, want the envelope", env)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error starting %q", err, tt.wantErr)
			}
		})
	}
}
