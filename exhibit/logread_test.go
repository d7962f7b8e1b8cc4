package exhibit_test

import (
	"bytes"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/ledger"
)

// checkpoint returns the service's latest checkpoint, its signature checked with the
// log key of the trust root.
func checkpoint(t *testing.T, env *exhibittest.Env) ledger.Checkpoint {
	t.Helper()
	raw, err := env.Service.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(env.Keys.CheckpointVerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(raw, note.VerifierList(v)); err != nil {
		t.Fatalf("the checkpoint does not verify with the log key: %v", err)
	}
	cp, err := ledger.ParseCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestConsistency(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	env.Register(t, env.Investigator, []byte("one"))
	env.Register(t, env.Investigator, []byte("two"))
	old := checkpoint(t, env)
	shared(t, env)
	cur := checkpoint(t, env)
	if cur.Origin != exhibittest.Origin || cur.Size != old.Size+7 {
		t.Fatalf("got checkpoint of %s at size %d, want %s at %d", cur.Origin, cur.Size, exhibittest.Origin, old.Size+7)
	}
	tests := []struct {
		name       string
		from, to   uint64
		wantHashes bool
		want       errWant // nil match: success
	}{
		{name: "old to latest", from: old.Size, to: cur.Size, wantHashes: true},
		{name: "0 to latest", from: 0, to: cur.Size},
		{name: "0 to 0", from: 0, to: 0},
		{name: "latest to latest", from: cur.Size, to: cur.Size},
		{name: "from after to", from: 2, to: 1, want: invalidInput()},
		{name: "beyond the latest checkpoint", from: 1, to: cur.Size + 1, want: invalidInput()},
	}
	for _, tt := range tests {
		p, err := env.Service.Consistency(t.Context(), tt.from, tt.to)
		if tt.want.match != nil {
			checkErr(t, tt.name, err, tt.want)
			continue
		}
		if err != nil || p.From != tt.from || p.To != tt.to || p.Hashes == nil || (len(p.Hashes) > 0) != tt.wantHashes {
			t.Errorf("%s: got %d hashes from %d to %d, %v; want a proof from %d to %d with hashes %v",
				tt.name, len(p.Hashes), p.From, p.To, err, tt.from, tt.to, tt.wantHashes)
		}
	}
	p, _ := env.Service.Consistency(t.Context(), old.Size, cur.Size)
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, old.Size, cur.Size, p.Hashes, old.Hash, cur.Hash); err != nil {
		t.Errorf("the consistency proof does not verify between the two checkpoints: %v", err)
	}
}

func TestLeaves(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{})
	shared(t, env)
	size := checkpoint(t, env).Size
	tests := []struct {
		name               string
		start, count, tree uint64
		wantStart, wantLen uint64
		want               errWant
	}{
		{name: "all", start: 0, count: size, tree: size, wantLen: size},
		{name: "a page clipped to the tree", start: size - 2, count: 10, tree: size, wantStart: size - 2, wantLen: 2},
		{name: "of an older tree", start: 1, count: 1, tree: 2, wantStart: 1, wantLen: 1},
		{name: "the largest page", start: 0, count: api.MaxLeafPage, tree: size, wantLen: size},
		{name: "no leaves", start: 0, count: 0, tree: size, want: invalidInput()},
		{name: "a page too large", start: 0, count: api.MaxLeafPage + 1, tree: size, want: invalidInput()},
		{name: "beyond the latest checkpoint", start: 0, count: 1, tree: size + 1, want: invalidInput()},
		{name: "start at the tree size", start: size, count: 1, tree: size, want: invalidInput()},
		{name: "empty tree", start: 0, count: 1, tree: 0, want: invalidInput()},
	}
	for _, tt := range tests {
		page, err := env.Service.Leaves(t.Context(), tt.start, tt.count, tt.tree)
		if tt.want.match != nil {
			checkErr(t, tt.name, err, tt.want)
			continue
		}
		if err != nil || page.Start != tt.wantStart || page.Size != tt.tree || uint64(len(page.Leaves)) != tt.wantLen {
			t.Errorf("%s: got %d leaves from %d of tree %d, %v; want %d from %d of %d",
				tt.name, len(page.Leaves), page.Start, page.Size, err, tt.wantLen, tt.wantStart, tt.tree)
		}
	}
	// The leaves are the log's, in order.
	page, _ := env.Service.Leaves(t.Context(), 0, size, size)
	direct, _ := env.Log.Leaves(t.Context(), 0, size, size)
	for i := range direct {
		if !bytes.Equal(page.Leaves[i], direct[i]) {
			t.Errorf("leaf %d differs from the log's", i)
		}
	}
}

func TestLeavesNotImplemented(t *testing.T) {
	t.Parallel()
	env := exhibittest.New(t, exhibittest.Options{WrapLog: exhibittest.HideLeaves})
	env.Register(t, env.Investigator, []byte("content"))
	_, err := env.Service.Leaves(t.Context(), 0, 1, 1)
	checkErr(t, "Leaves of a log without a LeafReader", err, isErr(exhibit.ErrNotImplemented))
}
