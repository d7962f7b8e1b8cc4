package tesseralog_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
)

// leafSet is what a gateway keeps of what it appended: every leaf, found by hash.
type leafSet struct {
	mu     sync.Mutex
	leaves map[string][]byte
}

func (s *leafSet) leafOf(_ context.Context, hash []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if leaf, ok := s.leaves[string(hash)]; ok {
		return leaf, nil
	}
	return nil, fmt.Errorf("leaf %x: %w", hash, ledger.ErrNotFound)
}

// growKnown appends n random leaves like grow, and keeps them in s.
func (e *env) growKnown(t *testing.T, s *leafSet, n int) {
	t.Helper()
	l := e.mustOpen(t)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		leaf := make([]byte, 40)
		rand.Read(leaf)
		s.mu.Lock()
		s.leaves[string(rfc6962.DefaultHasher.HashLeaf(leaf))] = leaf
		s.mu.Unlock()
		wg.Go(func() { _, _, errs[i] = l.Append(t.Context(), leaf) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func newKnownEnv(t *testing.T, n int) (*env, *leafSet) {
	t.Helper()
	e, s := newEnv(t), &leafSet{leaves: map[string][]byte{}}
	e.growKnown(t, s, n)
	return e, s
}

func TestRebuildRewritesDamagedBundles(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage []func(t *testing.T, dir string) string
	}{
		{"newest partial bundle deleted", []func(*testing.T, string) string{remove("tile/entries/001.p/*")}},
		{"partial bundle flipped", []func(*testing.T, string) string{flip("tile/entries/001.p/*", 9)}},
		{"full and partial bundles", []func(*testing.T, string) string{remove("tile/entries/000"), flip("tile/entries/001.p/*", 70)}},
		{"partial bundle cut short", []func(*testing.T, string) string{truncate("tile/entries/001.p/*", 50)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, leaves := newKnownEnv(t, 300)
			intact := tree(t, e.dir)
			var damaged []string
			for _, d := range tt.damage {
				damaged = append(damaged, d(t, e.dir))
			}
			_, err := e.open(t)
			wantDamage(t, err, tesseralog.DamageCorrupt, damaged[0])

			rep, err := tesseralog.Rebuild(t.Context(), e.config(), leaves.leafOf)
			if err != nil {
				t.Fatalf("Rebuild: %v", err)
			}
			slices.Sort(damaged)
			if !slices.Equal(rep.Rewritten, damaged) || rep.Check.Damage != nil {
				t.Errorf("Rebuild rewrote %v (then damage %v), want %v", rep.Rewritten, rep.Check.Damage, damaged)
			}
			// Byte for byte what tessera wrote, and nothing else changed.
			if diff := cmp.Diff(intact, tree(t, e.dir)); diff != "" {
				t.Errorf("the rebuilt directory is not the intact one (-intact +rebuilt):\n%s", diff)
			}
			// The gateway opens it, and appends after it.
			l := e.mustOpen(t)
			if _, _, err := l.Append(t.Context(), []byte("after the rebuild")); err != nil {
				t.Fatalf("Append after the rebuild: %v", err)
			}
		})
	}
}

// TestRebuildIntactLog leaves an intact log alone.
func TestRebuildIntactLog(t *testing.T) {
	e, leaves := newKnownEnv(t, 5)
	before := tree(t, e.dir)
	rep, err := tesseralog.Rebuild(t.Context(), e.config(), leaves.leafOf)
	if err != nil || len(rep.Rewritten) != 0 || rep.Check.Damage != nil {
		t.Fatalf("Rebuild of an intact log = %+v, %v; want nothing rewritten", rep, err)
	}
	if diff := cmp.Diff(before, tree(t, e.dir)); diff != "" {
		t.Errorf("Rebuild changed an intact log (-before +after):\n%s", diff)
	}
}

// TestRebuildRefuses: what a rebuild from the leaves cannot repair is refused, the
// damage named, and nothing is written.
func TestRebuildRefuses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func(t *testing.T, e *env)
		leafOf func(s *leafSet) tesseralog.LeafSource
		want   string
	}{
		{"a hash tile flipped too", func(t *testing.T, e *env) {
			remove("tile/entries/001.p/*")(t, e.dir)
			flipFile(t, e.dir, "tile/0/000", 5)
		}, nil, "only the entry bundles under intact tiles: restore the log directory from a backup"},
		{"a hash tile deleted too", func(t *testing.T, e *env) {
			remove("tile/entries/001.p/*")(t, e.dir)
			remove("tile/1/000.p/*")(t, e.dir)
		}, nil, "hash tile tile/1/000.p/1 is missing"},
		{"a leaf no event explains", func(t *testing.T, e *env) { remove("tile/entries/001.p/*")(t, e.dir) },
			func(s *leafSet) tesseralog.LeafSource {
				return func(ctx context.Context, hash []byte) ([]byte, error) {
					leaf, err := s.leafOf(ctx, hash)
					if err == nil && leaf[0] < 0x80 { // about half the leaves
						return nil, ledger.ErrNotFound
					}
					return leaf, err
				}
			}, "no stored custody event has the leaf at"},
		{"a wrong leaf", func(t *testing.T, e *env) { remove("tile/entries/001.p/*")(t, e.dir) },
			func(s *leafSet) tesseralog.LeafSource {
				return func(ctx context.Context, hash []byte) ([]byte, error) { return []byte("another leaf"), nil }
			}, "does not have its hash"},
		{"a leaf source that fails", func(t *testing.T, e *env) { remove("tile/entries/001.p/*")(t, e.dir) },
			func(s *leafSet) tesseralog.LeafSource {
				return func(ctx context.Context, hash []byte) ([]byte, error) { return nil, errors.New("store unreachable") }
			}, "store unreachable"},
		{"a rollback", func(t *testing.T, e *env) {
			old := filepath.Join(t.TempDir(), "old")
			copyDir(t, e.dir, old)
			e.grow(t, 3)
			os.RemoveAll(e.dir)
			copyDir(t, old, e.dir)
		}, nil, "damaged (rollback)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, leaves := newKnownEnv(t, 300)
			tt.damage(t, e)
			before := tree(t, e.dir)
			leafOf := leaves.leafOf
			if tt.leafOf != nil {
				leafOf = tt.leafOf(leaves)
			}
			rep, err := tesseralog.Rebuild(t.Context(), e.config(), leafOf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Rebuild = %+v, %v; want an error mentioning %q", rep, err, tt.want)
			}
			if diff := cmp.Diff(before, tree(t, e.dir)); diff != "" {
				t.Errorf("a refused Rebuild changed the log directory (-before +after):\n%s", diff)
			}
			if _, err := e.open(t); !errors.Is(err, ledger.ErrSecurity) {
				t.Errorf("the log opens after a refused rebuild: %v", err)
			}
		})
	}
}

func TestRebuildMissingLeavesError(t *testing.T) {
	e, _ := newKnownEnv(t, 10)
	remove("tile/entries/000.p/*")(t, e.dir)
	_, err := tesseralog.Rebuild(t.Context(), e.config(), func(ctx context.Context, hash []byte) ([]byte, error) {
		return nil, ledger.ErrNotFound
	})
	var me *tesseralog.MissingLeavesError
	if !errors.As(err, &me) || !errors.Is(err, ledger.ErrSecurity) {
		t.Fatalf("got %v, want a *MissingLeavesError matching ledger.ErrSecurity", err)
	}
	if me.Count != 10 || !slices.Equal(me.Indexes, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("missing leaves %d %v, want the 10 leaves 0-9", me.Count, me.Indexes)
	}
}

// TestLostBundleWhileRunning loses the newest entry bundle under a running log:
// nothing more is signed (the next append fails), and once the log is closed, Check
// names the bundle and Rebuild restores it.
func TestLostBundleWhileRunning(t *testing.T) {
	e, leaves := newKnownEnv(t, 5)
	l := e.mustOpen(t)
	before, _ := e.cps.Latest(t.Context())
	lost := remove("tile/entries/000.p/*")(t, e.dir)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, _, err := l.Append(ctx, []byte("after the loss"))
	wantDamage(t, err, tesseralog.DamageCorrupt, "a file of the log is missing")
	if _, _, err := l.Append(ctx, []byte("again")); !errors.Is(err, ledger.ErrSecurity) {
		t.Errorf("a later Append = %v, want the damage again", err)
	}
	if after, _ := e.cps.Latest(t.Context()); string(before) != string(after) {
		t.Errorf("a checkpoint was stored after the loss:\n%s", after)
	}
	l.Close(t.Context())
	_, err = e.check(t)
	wantDamage(t, err, tesseralog.DamageCorrupt, "entry bundle "+lost+" (leaves 0-4) is missing")
	if _, err := tesseralog.Rebuild(t.Context(), e.config(), leaves.leafOf); err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	l = e.mustOpen(t)
	if _, _, err := l.Append(t.Context(), []byte("after the rebuild")); err != nil {
		t.Fatalf("Append after the rebuild: %v", err)
	}
}
