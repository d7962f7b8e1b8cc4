package exhibittest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/keys/keystest"
)

func TestKeyManagerConformance(t *testing.T) {
	keystest.Run(t, NewKeyManager(), "NL")
}

func TestKeyManagerRotation(t *testing.T) {
	km := NewKeyManager()
	aad := []byte("ev-rotation")
	dk, err := km.NewDataKey(t.Context(), "NL", aad)
	if err != nil {
		t.Fatal(err)
	}
	if err := km.Rotate(t.Context(), "NL"); err != nil {
		t.Fatal(err)
	}
	rewrapped, err := km.Rewrap(t.Context(), dk.KeyRef, dk.Wrapped, aad)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := WrappedVersion(rewrapped); err != nil || v != 2 {
		t.Errorf("rewrapped key: got version %d (%v), want 2", v, err)
	}
	if err := km.Retire("NL"); err != nil {
		t.Fatal(err)
	}
	if _, err := km.UnwrapDataKey(t.Context(), dk.KeyRef, dk.Wrapped, aad); !errors.Is(err, keys.ErrUnwrap) {
		t.Errorf("unwrapping a retired version: got %v, want keys.ErrUnwrap", err)
	}
	got, err := km.UnwrapDataKey(t.Context(), dk.KeyRef, rewrapped, aad)
	if err != nil || !bytes.Equal(got, dk.Plaintext) {
		t.Errorf("unwrapping the rewrapped key: got %x, %v; want the data key", got, err)
	}
	if n := km.Versions("NL"); n != 2 {
		t.Errorf("got %d versions of the NL key, want 2", n)
	}
	km.SetFail(func(string) error { return keys.ErrUnavailable })
	if _, err := km.NewDataKey(t.Context(), "NL", aad); !errors.Is(err, keys.ErrUnavailable) {
		t.Errorf("with a failing hook: got %v, want keys.ErrUnavailable", err)
	}
}
