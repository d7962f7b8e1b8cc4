package exhibit_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestTrustRootVersions: the first trust root is version 1, unversioned; a change of
// the trust root of now (a new event key) is logged as version 2, which a court that
// pinned version 1 reaches through the chain; the stored versions are checked as a
// court checks them.
func TestTrustRootVersions(t *testing.T) {
	e := exhibittest.New(t, exhibittest.Options{})
	ctx := t.Context()
	v1, err := e.Service.TrustRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(v1), `"version"`) {
		t.Errorf("version 1 carries a version field:\n%s", v1)
	}
	again, err := e.Service.TrustRoot(ctx)
	if err != nil || string(again) != string(v1) {
		t.Fatalf("an unchanged trust root: got %v, another version", err)
	}
	e.Register(t, e.Investigator, []byte("evidence"))

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tk, err := custody.NewTrustedKey(&key.PublicKey, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.AddTrustedKey(tk)
	v2, err := e.Service.TrustRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := custody.ParseTrustRoot(v2)
	if err != nil || tr2.TrustRootVersion() != 2 || tr2.Previous != custody.TrustRootDigest(v1) || len(tr2.EventKeys) != 2 {
		t.Fatalf("after a new key: got version %d (%v), want version 2 after version 1 with two keys\n%s", tr2.TrustRootVersion(), err, v2)
	}
	rawChain, err := e.Service.TrustRootChain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := custody.ParseTrustRootChain(rawChain)
	if err != nil {
		t.Fatal(err)
	}
	got, gotBytes, err := custody.FollowTrustRootChain(v1, chain, nil)
	if err != nil || got.TrustRootVersion() != 2 || string(gotBytes) != string(v2) {
		t.Fatalf("following the chain from version 1: reached %d, %v", got.TrustRootVersion(), err)
	}
	// A replica sees the same versions and logs nothing more.
	if r, err := e.Replica(t).TrustRoot(ctx); err != nil || string(r) != string(v2) {
		t.Errorf("a replica's trust root: %v, not version 2", err)
	}

	// A stored change altered on disk: the versions no longer follow from version 1.
	stored, err := e.Store.Read("trust-root/00000002.change.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.Replace("trust-root/00000002.change.json", []byte(strings.Replace(string(stored), `"proof":"`, `"proof":"x`, 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Service.TrustRoot(ctx); !errors.Is(err, exhibit.ErrLogDamaged) {
		t.Errorf("an altered trust root change: got %v, want ErrLogDamaged", err)
	}
}
