// Package keystest is the conformance suite of keys.DataKeys: every implementation (the
// local key files, Vault Transit) runs it. It imports keys and the testing package only.
package keystest

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/evidencegw/evidencegw/keys"
)

// Run checks dk against the contract of keys.DataKeys for a jurisdiction it serves.
func Run(t *testing.T, dk keys.DataKeys, jurisdiction string) {
	t.Run("RoundTrip", func(t *testing.T) {
		aad := []byte("ev-keystestaaaaaaaaaaaaaaaaa")
		k, err := dk.NewDataKey(t.Context(), jurisdiction, aad)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.Plaintext) != 32 || len(k.Wrapped) == 0 || k.KeyRef == "" {
			t.Fatalf("got a %d-byte key, %d wrapped bytes, key ref %q; want 32 bytes, a wrapped form and a ref", len(k.Plaintext), len(k.Wrapped), k.KeyRef)
		}
		if bytes.Contains(k.Wrapped, k.Plaintext) {
			t.Error("the wrapped key contains the plaintext key")
		}
		got, err := dk.UnwrapDataKey(t.Context(), k.KeyRef, k.Wrapped, aad)
		if err != nil || !bytes.Equal(got, k.Plaintext) {
			t.Fatalf("UnwrapDataKey: got %x, %v; want the key", got, err)
		}
	})
	t.Run("BoundToAAD", func(t *testing.T) {
		k, err := dk.NewDataKey(t.Context(), jurisdiction, []byte("ev-one"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dk.UnwrapDataKey(t.Context(), k.KeyRef, k.Wrapped, []byte("ev-two")); !errors.Is(err, keys.ErrUnwrap) {
			t.Errorf("unwrap with other aad: got %v, want keys.ErrUnwrap", err)
		}
		bad := append([]byte{}, k.Wrapped...)
		bad[len(bad)-1] ^= 1
		if _, err := dk.UnwrapDataKey(t.Context(), k.KeyRef, bad, []byte("ev-one")); err == nil {
			t.Error("unwrap of an altered wrapped key succeeded")
		}
		if _, err := dk.UnwrapDataKey(t.Context(), "other:kek", k.Wrapped, []byte("ev-one")); !errors.Is(err, keys.ErrUnwrap) {
			t.Errorf("unwrap under a foreign key ref: got %v, want keys.ErrUnwrap", err)
		}
	})
	t.Run("FreshKeysConcurrently", func(t *testing.T) {
		const n = 8
		var wg sync.WaitGroup
		got := make([][]byte, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				k, err := dk.NewDataKey(t.Context(), jurisdiction, []byte("ev-c"))
				got[i], errs[i] = k.Plaintext, err
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			for j := range i {
				if bytes.Equal(got[i], got[j]) {
					t.Fatalf("keys %d and %d are equal", i, j)
				}
			}
		}
	})
}
