package custody

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Conformance of the custody verifier's Merkle proofs: the RFC 6962 vectors of
// transparency-dev/merkle (testdata/rfc6962, see its README.md) through VerifyInclusion and
// VerifyConsistency, and C2SP tlog-proof texts through verifyInclusion, the function
// Verify applies to each event's proof.

const (
	rfc6962Dir = "testdata/rfc6962"
	// How many vector files testdata/rfc6962 holds of each kind, so that a lost or
	// misplaced file fails the test instead of going unrun.
	wantInclusionVectors   = 98
	wantConsistencyVectors = 98
)

type inclusionVector struct {
	LeafIdx  uint64   `json:"leafIdx"`
	TreeSize uint64   `json:"treeSize"`
	Root     []byte   `json:"root"`
	LeafHash []byte   `json:"leafHash"`
	Proof    [][]byte `json:"proof"`
	Desc     string   `json:"desc"`
	WantErr  bool     `json:"wantErr"`
}

type consistencyVector struct {
	Size1   uint64   `json:"size1"`
	Size2   uint64   `json:"size2"`
	Root1   []byte   `json:"root1"`
	Root2   []byte   `json:"root2"`
	Proof   [][]byte `json:"proof"`
	Desc    string   `json:"desc"`
	WantErr bool     `json:"wantErr"`
}

type namedVector[T any] struct {
	name   string // path under testdata/rfc6962
	vector T
}

// loadVectors decodes every .json file under testdata/rfc6962/dir, in lexical order.
// Unknown fields are refused so that a change of the upstream format is noticed.
func loadVectors[T any](t *testing.T, dir string) []namedVector[T] {
	t.Helper()
	var vs []namedVector[T]
	fsys := os.DirFS(rfc6962Dir)
	err := fs.WalkDir(fsys, dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) != ".json" {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		var v T
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("decoding %s: %w", name, err)
		}
		vs = append(vs, namedVector[T]{name, v})
		return nil
	})
	if err != nil {
		t.Fatalf("loading %s vectors: %v", dir, err)
	}
	return vs
}

func TestRFC6962InclusionVectors(t *testing.T) {
	vs := loadVectors[inclusionVector](t, "inclusion")
	if got := len(vs); got != wantInclusionVectors {
		t.Fatalf("got %d inclusion vectors, want %d", got, wantInclusionVectors)
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			c := v.vector
			err := VerifyInclusion(c.LeafIdx, c.TreeSize, c.LeafHash, c.Proof, c.Root)
			if got := err != nil; got != c.WantErr {
				t.Errorf("%s: VerifyInclusion(index %d, size %d): got error %v, want an error: %t",
					c.Desc, c.LeafIdx, c.TreeSize, err, c.WantErr)
			}
		})
	}
}

func TestRFC6962ConsistencyVectors(t *testing.T) {
	vs := loadVectors[consistencyVector](t, "consistency")
	if got := len(vs); got != wantConsistencyVectors {
		t.Fatalf("got %d consistency vectors, want %d", got, wantConsistencyVectors)
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			c := v.vector
			err := VerifyConsistency(c.Size1, c.Size2, c.Proof, c.Root1, c.Root2)
			if got := err != nil; got != c.WantErr {
				t.Errorf("%s: VerifyConsistency(size %d to %d): got error %v, want an error: %t",
					c.Desc, c.Size1, c.Size2, err, c.WantErr)
			}
		})
	}
}

// treeHash is MTH of RFC 6962 section 2.1 over the leaf hashes of a tree.
func treeHash(leafHashes [][]byte) []byte {
	switch n := len(leafHashes); n {
	case 0:
		return rfc6962.DefaultHasher.EmptyRoot()
	case 1:
		return leafHashes[0]
	default:
		k := splitPoint(n)
		return rfc6962.DefaultHasher.HashChildren(treeHash(leafHashes[:k]), treeHash(leafHashes[k:]))
	}
}

// splitPoint is the largest power of two smaller than n > 1.
func splitPoint(n int) int {
	k := 1
	for k*2 < n {
		k *= 2
	}
	return k
}

// inclusionPath is PATH(m, D[n]) of RFC 6962 section 2.1.1.
func inclusionPath(m int, leafHashes [][]byte) [][]byte {
	if len(leafHashes) <= 1 {
		return nil
	}
	k := splitPoint(len(leafHashes))
	if m < k {
		return append(inclusionPath(m, leafHashes[:k]), treeHash(leafHashes[k:]))
	}
	return append(inclusionPath(m-k, leafHashes[k:]), treeHash(leafHashes[:k]))
}

// testLog is a small log whose checkpoints are signed by a fixed key.
type testLog struct {
	tr     *TrustRoot
	key    noteKey
	leaves [][]byte
	hashes [][]byte
}

func newTestLog(t testing.TB, size int) *testLog {
	t.Helper()
	l := &testLog{key: newNoteKey(t, "log", testOrigin)}
	l.tr = &TrustRoot{Log: TrustedLog{Origin: testOrigin, VerifierKey: l.key.vkey, verifier: l.key.verifier}}
	for i := range size {
		leaf := fmt.Appendf(nil, "leaf %d\n", i)
		l.leaves = append(l.leaves, leaf)
		l.hashes = append(l.hashes, rfc6962.DefaultHasher.HashLeaf(leaf))
	}
	return l
}

// checkpoint returns the log's checkpoint at size, signed by k.
func (l *testLog) checkpoint(t testing.TB, size int, k noteKey) string {
	t.Helper()
	cp := log.Checkpoint{Origin: testOrigin, Size: uint64(size), Hash: treeHash(l.hashes[:size])}
	return signNote(t, string(cp.Marshal()), k)
}

// proofParts are the lines of a C2SP tlog-proof; empty header, extra and index lines are
// left out.
type proofParts struct {
	header, extra, index string
	hashes               []string
	checkpoint           string
}

func (p proofParts) String() string {
	var b strings.Builder
	for _, line := range append([]string{p.header, p.extra, p.index}, p.hashes...) {
		if line != "" {
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("\n" + p.checkpoint)
	return b.String()
}

func (l *testLog) proof(t testing.TB, index, size int) proofParts {
	t.Helper()
	p := proofParts{
		header:     "c2sp.org/tlog-proof@v1",
		index:      fmt.Sprintf("index %d", index),
		checkpoint: l.checkpoint(t, size, l.key),
	}
	for _, h := range inclusionPath(index, l.hashes[:size]) {
		p.hashes = append(p.hashes, base64.StdEncoding.EncodeToString(h))
	}
	return p
}

func TestTLogProof(t *testing.T) {
	const index, size = 3, 5
	l := newTestLog(t, size)
	valid := l.proof(t, index, size)
	with := func(edit func(p *proofParts)) string {
		p := valid
		p.hashes = slices.Clone(valid.hashes)
		edit(&p)
		return p.String()
	}
	b64 := base64.StdEncoding.EncodeToString
	impostor := newNoteKey(t, "impostor", testOrigin) // the log's name, another key
	otherOrigin := log.Checkpoint{Origin: "log.example/other", Size: size, Hash: treeHash(l.hashes)}
	shortRoot := log.Checkpoint{Origin: testOrigin, Size: size, Hash: treeHash(l.hashes)[:31]}

	tests := []struct {
		name    string
		text    string
		leaf    []byte // nil: the leaf at index
		wantErr string // "" = verifies
	}{
		{"valid", valid.String(), nil, ""},
		{"valid with extra data", with(func(p *proofParts) { p.extra = "extra " + b64([]byte("app data")) }), nil, ""},
		// Lenient, harmless: bufio.Scanner strips a CR before each LF and Unmarshal
		// rebuilds the checkpoint with LF only, which is what was signed.
		{"CRLF line endings", strings.ReplaceAll(valid.String(), "\n", "\r\n"), nil, ""},
		{"checkpoint without final newline", strings.TrimSuffix(valid.String(), "\n"), nil, ""},

		{"empty text", "", nil, "missing expected header"},
		{"missing header", with(func(p *proofParts) { p.header = "" }), nil, "missing expected header"},
		{"other version", with(func(p *proofParts) { p.header = "c2sp.org/tlog-proof@v2" }), nil, "missing expected header"},
		{"header with trailing space", with(func(p *proofParts) { p.header += " " }), nil, "missing expected header"},
		{"extra data not base64", with(func(p *proofParts) { p.extra = "extra !!" }), nil, "extra data not base64"},
		{"extra data after the index", strings.Replace(valid.String(), valid.index+"\n", valid.index+"\nextra "+b64([]byte("x"))+"\n", 1), nil, "hash not base64"},

		{"missing index", with(func(p *proofParts) { p.index = "" }), nil, "missing required index"},
		{"index not a number", with(func(p *proofParts) { p.index = "index three" }), nil, "not a valid uint64"},
		{"negative index", with(func(p *proofParts) { p.index = "index -3" }), nil, "not a valid uint64"},
		{"index overflows uint64", with(func(p *proofParts) { p.index = "index 18446744073709551616" }), nil, "not a valid uint64"},
		{"index of another leaf", with(func(p *proofParts) { p.index = "index 2" }), nil, "not included"},
		{"index beyond the tree", with(func(p *proofParts) { p.index = "index 5" }), nil, "not included"},
		{"leaf of another event", valid.String(), l.leaves[2], "not included"},

		{"hash not base64", with(func(p *proofParts) { p.hashes[0] = "not base64!" }), nil, "hash not base64"},
		{"hash of 31 bytes", with(func(p *proofParts) { p.hashes[1] = b64(make([]byte, 31)) }), nil, "hash length was 31"},
		{"hash of 33 bytes", with(func(p *proofParts) { p.hashes[1] = b64(make([]byte, 33)) }), nil, "hash length was 33"},
		{"hash missing", with(func(p *proofParts) { p.hashes = p.hashes[:2] }), nil, "not included"},
		{"hash added", with(func(p *proofParts) { p.hashes = append(p.hashes, p.hashes[0]) }), nil, "not included"},
		{"hashes swapped", with(func(p *proofParts) { p.hashes[0], p.hashes[1] = p.hashes[1], p.hashes[0] }), nil, "not included"},
		{"no blank line before the checkpoint", strings.Replace(valid.String(), "\n\n", "\n", 1), nil, "hash not base64"},

		{"missing checkpoint", with(func(p *proofParts) { p.checkpoint = "" }), nil, "malformed note"},
		{"checkpoint signed by another key", with(func(p *proofParts) { p.checkpoint = l.checkpoint(t, size, impostor) }), nil, "no verifiable signatures"},
		{"checkpoint of another origin", with(func(p *proofParts) { p.checkpoint = signNote(t, string(otherOrigin.Marshal()), l.key) }), nil, "got Origin"},
		{"checkpoint of a smaller tree", with(func(p *proofParts) { p.checkpoint = l.checkpoint(t, 4, l.key) }), nil, "not included"},
		{"checkpoint root of 31 bytes", with(func(p *proofParts) { p.checkpoint = signNote(t, string(shortRoot.Marshal()), l.key) }), nil, "not included"},
		{"data after the checkpoint", valid.String() + "junk\n", nil, "malformed note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf := tt.leaf
			if leaf == nil {
				leaf = l.leaves[index]
			}
			cp, err := verifyInclusion(tt.text, l.tr, nil, checkpointCache{}, leaf)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr == "":
				if cp.index != index || cp.size != size {
					t.Errorf("got index %d in size %d, want %d in %d", cp.index, cp.size, index, size)
				}
			case err == nil || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("got %v, want an error mentioning %q", err, tt.wantErr)
			case !errors.Is(err, ErrVerification):
				t.Errorf("got %v, want it to wrap ErrVerification", err)
			}
		})
	}
}

// FuzzVerifyInclusionProof feeds tlog-proof texts, outside input of every bundle, to the
// function Verify checks them with.
func FuzzVerifyInclusionProof(f *testing.F) {
	l := newTestLog(f, 5)
	for i := range 5 {
		f.Add(l.proof(f, i, 5).String(), i)
	}
	f.Add("c2sp.org/tlog-proof@v1\nindex 0\n\n", 0)
	f.Fuzz(func(t *testing.T, text string, leaf int) {
		cp, err := verifyInclusion(text, l.tr, nil, checkpointCache{}, l.leaves[uint(leaf)%5])
		if err == nil && cp.index >= cp.size {
			t.Errorf("verified index %d in a tree of size %d", cp.index, cp.size)
		}
	})
}
