// Package keys manages the keys that protect evidence and sign custody: data keys
// (generated per evidence item, wrapped by a key-encryption key), the custody event
// signer and the log checkpoint signer. The embedded default keeps them in files in the
// data directory; real deployments keep them in Vault Transit (keys/vault).
//
// It may import custody (to describe event keys for a trust root) and the sigstore and
// signed-note signer interfaces; it must not import the object store, the ledger, the
// application layer or anything HTTP. The Vault client lives in keys/vault only.
package keys

import (
	"context"
	"errors"
	"log/slog"
)

// ErrUnavailable is returned when the key manager cannot be reached or is sealed.
// Callers must fail the request (HTTP 503) and must never fall back to other keys.
var ErrUnavailable = errors.New("key manager unavailable")

// ErrUnwrap is returned when a wrapped data key does not unwrap: unknown key
// reference, wrong aad, or a wrapped key that was altered. It is not transient: a
// retry fails the same way.
var ErrUnwrap = errors.New("data key does not unwrap")

// DataKey is a fresh data-encryption key and its wrapped form.
type DataKey struct {
	// Plaintext is the 32-byte key. Never log it, never store it.
	Plaintext []byte
	// Wrapped is Plaintext encrypted by the key-encryption key, safe to store.
	Wrapped []byte
	// KeyRef names the key-encryption key and its version, such as "local:kek-1" or
	// "vault:transit/evidence-nl". It goes into the custody record.
	KeyRef string
}

// LogValue keeps the plaintext key out of logs.
func (k DataKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_ref", k.KeyRef), slog.String("plaintext", "REDACTED"))
}

// DataKeys generates and unwraps data keys.
//
// aad binds the wrapped key to its use (the evidence id): unwrapping with other aad fails.
// Implementations are safe for concurrent use.
type DataKeys interface {
	// NewDataKey returns a fresh random data key, wrapped under the current
	// key-encryption key for the given jurisdiction ("" where the manager has one key).
	NewDataKey(ctx context.Context, jurisdiction string, aad []byte) (DataKey, error)
	// UnwrapDataKey returns the plaintext of a wrapped key produced by NewDataKey.
	// A keyRef, wrapped key or aad that does not match is an error wrapping ErrUnwrap.
	UnwrapDataKey(ctx context.Context, keyRef string, wrapped, aad []byte) ([]byte, error)
}
