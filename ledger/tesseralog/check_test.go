package tesseralog_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
)

func (e *env) config() tesseralog.Config {
	return tesseralog.Config{Dir: e.dir, Verifier: e.v, Checkpoints: e.cps}
}

// check runs Check, which must either succeed or return its report's damage.
func (e *env) check(t *testing.T) (*tesseralog.CheckReport, error) {
	t.Helper()
	r, err := tesseralog.Check(t.Context(), e.config())
	if r == nil {
		t.Fatalf("Check could not run: %v", err)
	}
	if (err == nil) != (r.Damage == nil) || (r.Damage != nil && err != error(r.Damage)) {
		t.Fatalf("Check returned %v with a report of damage %v, want the report's damage", err, r.Damage)
	}
	return r, err
}

// tree returns the SHA-256 and mode of every file under dir, by relative path.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[rel] = fmt.Sprintf("%s %x", fi.Mode(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newestFile returns the path, relative to dir, of the last regular file matching
// pattern under dir.
func newestFile(t *testing.T, dir, pattern string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, pattern))
	for i := len(matches) - 1; i >= 0; i-- {
		if fi, err := os.Stat(matches[i]); err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, matches[i])
			return rel
		}
	}
	t.Fatalf("no file %s under %s", pattern, dir)
	return ""
}

func TestCheckIntact(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 300)
	before := tree(t, e.dir)
	r, err := e.check(t)
	if err != nil {
		t.Fatalf("Check of an intact log: %v", err)
	}
	if r.Stored.Size != 300 || r.Found.Size != 300 || string(r.Found.Hash) != string(r.Stored.Hash) || !r.TilesIntact {
		t.Errorf("got stored size %d, found size %d, tiles intact %v; want 300, 300 with one root, intact", r.Stored.Size, r.Found.Size, r.TilesIntact)
	}
	if len(r.Bundles)+len(r.Tiles) != 0 {
		t.Errorf("damaged files %v %v in an intact log", r.Bundles, r.Tiles)
	}
	if diff := cmp.Diff(before, tree(t, e.dir)); diff != "" {
		t.Errorf("Check changed the log directory (-before +after):\n%s", diff)
	}
}

// TestCheckStoresNothing: unlike New, Check does not store the log's checkpoint when
// it is newer than the stored ones.
func TestCheckStoresNothing(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 3)
	e.cps = ledgertest.NewMemCheckpoints()
	r, err := e.check(t)
	if err != nil || r.Found.Size != 3 || r.Stored.Note != nil {
		t.Fatalf("Check = found size %d, stored %q, %v; want 3, none stored, no damage", r.Found.Size, r.Stored.Note, err)
	}
	if sizes := e.cps.Sizes(); len(sizes) != 0 {
		t.Errorf("Check stored checkpoints of sizes %v", sizes)
	}
}

func TestCheckFindsDamagedFiles(t *testing.T) {
	for _, tt := range []struct {
		name    string
		damage  func(t *testing.T, dir string) string // returns the damaged file
		bundles bool                                  // the damage is in entry bundles (the tiles are intact)
		reason  string
		also    []string // further tiles found wrong
	}{
		{"newest partial entry bundle deleted", remove("tile/entries/001.p/*"), true, "(leaves 256-299) is missing", nil},
		{"partial entry bundle flipped", flip("tile/entries/001.p/*", 9), true, "(leaves 256-299) does not match the hash tile above it: leaf 256 has another hash", nil},
		{"full entry bundle flipped", flip("tile/entries/000", 300), true, "(leaves 0-255) does not match the hash tile above it", nil},
		{"full entry bundle cut short", truncate("tile/entries/000", 100), true, "(leaves 0-255) does not parse", nil},
		{"full hash tile flipped", flip("tile/0/000", 5), false, "(leaves 0-255) and entry bundle tile/entries/000 disagree at leaf 0: one of the two is damaged",
			[]string{"hash tile tile/1/000.p/1 does not recompute from the tiles below it"}},
		{"partial hash tile deleted", remove("tile/0/001.p/*"), false, "(leaves 256-299) is missing", nil},
		{"hash tile of level 1 flipped", flip("tile/1/000.p/*", 0), false, "does not recompute from the tiles below it", nil},
		{"hash tile of level 1 deleted", remove("tile/1/000.p/*"), false, "is missing", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.grow(t, 300) // one full bundle and tile, and partial ones, on two levels
			path := tt.damage(t, e.dir)
			r, err := e.check(t)
			wantDamage(t, err, tesseralog.DamageCorrupt, path+" "+tt.reason)
			got, other := r.Bundles, r.Tiles
			if !tt.bundles {
				got, other = r.Tiles, r.Bundles
			}
			if len(got) != 1+len(tt.also) || got[0].Path != path || !strings.Contains(got[0].String(), tt.reason) || len(other) != 0 {
				t.Fatalf("got damaged bundles %v, tiles %v; want %s %s, then %q", r.Bundles, r.Tiles, path, tt.reason, tt.also)
			}
			for i, want := range tt.also {
				if got[i+1].String() != want {
					t.Errorf("damaged file %d is %q, want %q", i+1, got[i+1], want)
				}
			}
			if r.TilesIntact != tt.bundles {
				t.Errorf("TilesIntact = %v, want %v", r.TilesIntact, tt.bundles)
			}
			if tt.bundles && !strings.Contains(err.Error(), "can be rebuilt from the stored custody events") {
				t.Errorf("the damage does not say the bundles can be rebuilt: %v", err)
			}
		})
	}
}

func remove(pattern string) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := newestFile(t, dir, pattern)
		if err := os.Remove(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func flip(pattern string, offset int) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := flipFile(t, dir, pattern, offset)
		rel, _ := filepath.Rel(dir, p)
		return rel
	}
}

func truncate(pattern string, size int64) func(t *testing.T, dir string) string {
	return func(t *testing.T, dir string) string {
		p := newestFile(t, dir, pattern)
		if err := os.Truncate(filepath.Join(dir, p), size); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// TestCheckNamesTheNewestBundle: the log grew in two batches, so the first bundle has
// two partial versions; only the newest is lost, and Check names it.
func TestCheckNamesTheNewestBundle(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 10)
	e.grow(t, 5)
	p := newestFile(t, e.dir, "tile/entries/000.p/*")
	if p != "tile/entries/000.p/15" {
		t.Fatalf("the newest partial bundle is %s, want tile/entries/000.p/15", p)
	}
	os.Remove(filepath.Join(e.dir, p))
	r, err := e.check(t)
	wantDamage(t, err, tesseralog.DamageCorrupt, "entry bundle tile/entries/000.p/15 (leaves 0-14) is missing")
	if len(r.Bundles) != 1 || !r.Bundles[0].Missing || r.Bundles[0].First != 0 || r.Bundles[0].N != 15 {
		t.Errorf("got damaged bundles %+v, want tile/entries/000.p/15 missing, leaves 0-14", r.Bundles)
	}
}

func TestCheckFindsRollbackAndFork(t *testing.T) {
	t.Run("rollback", func(t *testing.T) {
		e := newEnv(t)
		e.grow(t, 3)
		old := filepath.Join(t.TempDir(), "old")
		copyDir(t, e.dir, old)
		e.grow(t, 3)
		os.RemoveAll(e.dir)
		copyDir(t, old, e.dir)
		r, err := e.check(t)
		wantDamage(t, err, tesseralog.DamageRollback, "the log holds 3 entries, but the gateway published a checkpoint of size 6")
		if r.Stored.Size != 6 || r.Found.Size != 3 {
			t.Errorf("got stored size %d, found size %d; want 6 and 3", r.Stored.Size, r.Found.Size)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		e := newEnv(t)
		e.grow(t, 2)
		os.RemoveAll(e.dir)
		_, err := e.check(t)
		wantDamage(t, err, tesseralog.DamageRollback, "holds no checkpoint")
	})
	t.Run("fork", func(t *testing.T) {
		e := newEnv(t)
		e.grow(t, 3)
		other := &env{dir: filepath.Join(t.TempDir(), "other"), s: e.s, v: e.v, cps: ledgertest.NewMemCheckpoints()}
		other.grow(t, 3)
		os.RemoveAll(e.dir)
		copyDir(t, other.dir, e.dir)
		_, err := e.check(t)
		wantDamage(t, err, tesseralog.DamageFork, "root for tree size 3")
	})
}

// TestCheckFreshDirectory: no log and no stored checkpoint is an empty, intact log.
func TestCheckFreshDirectory(t *testing.T) {
	e := newEnv(t)
	r, err := e.check(t)
	if err != nil || r.Found.Note != nil || r.Stored.Note != nil {
		t.Fatalf("Check of a new log = %+v, %v; want no checkpoint, no damage", r, err)
	}
	ro, err := r.ReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Checkpoint(t.Context()); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Checkpoint of an empty read-only log = %v, want ledger.ErrNotFound", err)
	}
}

func TestReadOnly(t *testing.T) {
	e := newEnv(t)
	e.grow(t, 5)
	r, err := e.check(t)
	if err != nil {
		t.Fatal(err)
	}
	before := tree(t, e.dir)
	ro, err := r.ReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ro.Checkpoint(t.Context())
	if err != nil || cp.Size != 5 || string(cp.Note) != string(r.Stored.Note) {
		t.Fatalf("Checkpoint = size %d, %v; want the stored checkpoint of size 5", cp.Size, err)
	}
	leaves, err := ro.Leaves(t.Context(), 0, 5, 5)
	if err != nil || len(leaves) != 5 {
		t.Fatalf("Leaves = %d leaves, %v; want 5", len(leaves), err)
	}
	for i, leaf := range leaves {
		hashes, err := ro.InclusionProof(t.Context(), uint64(i), 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), 5, rfc6962.DefaultHasher.HashLeaf(leaf), hashes, cp.Hash); err != nil {
			t.Errorf("leaf %d: %v", i, err)
		}
	}
	if _, err := ro.ConsistencyProof(t.Context(), 2, 5); err != nil {
		t.Errorf("ConsistencyProof: %v", err)
	}
	if _, err := ro.InclusionProof(t.Context(), 0, 6); !errors.Is(err, ledger.ErrBadSize) {
		t.Errorf("InclusionProof beyond the checkpoint = %v, want ledger.ErrBadSize", err)
	}
	if _, _, err := ro.Append(t.Context(), []byte("leaf")); !errors.Is(err, tesseralog.ErrReadOnly) {
		t.Errorf("Append = %v, want ErrReadOnly", err)
	}
	if diff := cmp.Diff(before, tree(t, e.dir)); diff != "" {
		t.Errorf("the read-only log changed its directory (-before +after):\n%s", diff)
	}

	flipFile(t, e.dir, "tile/entries/000.p/*", 20)
	_, err = ro.Leaves(t.Context(), 0, 5, 5)
	wantDamage(t, err, tesseralog.DamageCorrupt, "is not in the tree")
	r, _ = e.check(t)
	if _, err := r.ReadOnly(); !errors.Is(err, ledger.ErrSecurity) {
		t.Errorf("ReadOnly of a damaged log = %v, want its damage", err)
	}
}
