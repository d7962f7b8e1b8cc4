package vault

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/evidencegw/evidencegw/keys"
)

// keyRefPrefix starts the KeyRef of data keys wrapped by Vault: "vault:<mount>/<kek>".
const keyRefPrefix = "vault:"

// dataKeyBits is the size of data keys: AES-256.
const dataKeyBits = 256

// contextLabel separates data-key derivation contexts from any other use of the
// key-encryption keys, and makes the context non-empty even for empty aad (Vault
// refuses an empty context for a derived key).
const contextLabel = "evidencegw data key v1\x00"

// dataKeyContext is the transit "context" that binds a wrapped data key to its aad:
// base64(contextLabel || aad).
func dataKeyContext(aad []byte) string {
	return base64.StdEncoding.EncodeToString(append([]byte(contextLabel), aad...))
}

// keyRef returns the KeyRef of data keys wrapped by the key-encryption key kek:
// "vault:<mount>/<kek>".
func (m *Manager) keyRef(kek string) string { return keyRefPrefix + m.cfg.Mount + "/" + kek }

// kekFor returns the key-encryption key of a jurisdiction.
func (m *Manager) kekFor(jurisdiction string) (string, error) {
	kek, ok := m.cfg.KEKs[jurisdiction]
	if !ok {
		return "", fmt.Errorf("%w %q (configured: %s)", ErrUnknownJurisdiction, jurisdiction, m.jurisdictions())
	}
	return kek, nil
}

func (m *Manager) jurisdictions() string {
	var js []string
	for j := range m.cfg.KEKs {
		js = append(js, fmt.Sprintf("%q", j))
	}
	return strings.Join(js, ", ")
}

// kekOf parses a KeyRef of this manager and returns its key-encryption key.
func (m *Manager) kekOf(keyRef string) (string, error) {
	rest, ok := strings.CutPrefix(keyRef, keyRefPrefix)
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 || rest[:i] != m.cfg.Mount || !m.kekNames[rest[i+1:]] {
		return "", fmt.Errorf("key reference %q is not a key-encryption key of %s%s/: %w",
			keyRef, keyRefPrefix, m.cfg.Mount, keys.ErrUnwrap)
	}
	return rest[i+1:], nil
}

// NewDataKey implements keys.DataKeys: transit datakey/plaintext/<kek> generates 32
// random bytes in Vault and wraps them under the latest version of the jurisdiction's
// key-encryption key, derived for aad. Wrapped is Vault's ciphertext string
// "vault:v<version>:<base64>"; KeyRef is "vault:<mount>/<kek>".
func (m *Manager) NewDataKey(ctx context.Context, jurisdiction string, aad []byte) (keys.DataKey, error) {
	kek, err := m.kekFor(jurisdiction)
	if err != nil {
		return keys.DataKey{}, fmt.Errorf("generating data key: %w", err)
	}
	data, err := m.write(ctx, m.path("datakey", "plaintext", kek), map[string]any{
		"context": dataKeyContext(aad),
		"bits":    dataKeyBits,
	})
	if err != nil {
		return keys.DataKey{}, fmt.Errorf("generating data key under %s: %w", m.keyRef(kek), err)
	}
	ciphertext, _ := data["ciphertext"].(string)
	plaintextB64, _ := data["plaintext"].(string)
	key, err := base64.StdEncoding.DecodeString(plaintextB64)
	if _, ok := versionOf(ciphertext); err != nil || !ok || len(key) != dataKeyBits/8 {
		clear(key)
		return keys.DataKey{}, fmt.Errorf("generating data key under %s: Vault answered an unexpected data key", m.keyRef(kek))
	}
	return keys.DataKey{Plaintext: key, Wrapped: []byte(ciphertext), KeyRef: m.keyRef(kek)}, nil
}

// UnwrapDataKey implements keys.DataKeys through transit decrypt/<kek>. It accepts a
// key wrapped by any version of the key-encryption key that Vault still holds (see
// Rewrap). A keyRef of another key manager, a wrapped key that is not a transit
// ciphertext, or a wrapped key or aad that Vault refuses is an error wrapping
// keys.ErrUnwrap.
func (m *Manager) UnwrapDataKey(ctx context.Context, keyRef string, wrapped, aad []byte) ([]byte, error) {
	kek, err := m.kekOf(keyRef)
	if err != nil {
		return nil, fmt.Errorf("unwrapping data key: %w", err)
	}
	if _, ok := versionOf(string(wrapped)); !ok {
		return nil, fmt.Errorf("unwrapping data key under %s: wrapped key is not a transit ciphertext: %w", keyRef, keys.ErrUnwrap)
	}
	data, err := m.write(ctx, m.path("decrypt", kek), map[string]any{
		"ciphertext": string(wrapped),
		"context":    dataKeyContext(aad),
	})
	if isStatus(err, http.StatusBadRequest) {
		return nil, fmt.Errorf("unwrapping data key under %s: Vault refused it (wrong aad, altered or trimmed wrapped key): %w: %w", keyRef, keys.ErrUnwrap, err)
	}
	if err != nil {
		return nil, fmt.Errorf("unwrapping data key under %s: %w", keyRef, err)
	}
	plaintextB64, _ := data["plaintext"].(string)
	key, err := base64.StdEncoding.DecodeString(plaintextB64)
	if err != nil || len(key) != dataKeyBits/8 {
		clear(key)
		return nil, fmt.Errorf("unwrapping data key under %s: Vault answered a plaintext that is not a %d-byte key: %w", keyRef, dataKeyBits/8, keys.ErrUnwrap)
	}
	return key, nil
}

// Rotate adds a new version to the key-encryption key of a jurisdiction (transit
// keys/<kek>/rotate). New data keys are wrapped under it; keys wrapped under older
// versions still unwrap, and Rewrap moves them to the new version. Each call adds a
// version: a retry after an unclear failure may rotate twice, which is harmless.
func (m *Manager) Rotate(ctx context.Context, jurisdiction string) error {
	kek, err := m.kekFor(jurisdiction)
	if err != nil {
		return fmt.Errorf("rotating key-encryption key: %w", err)
	}
	if _, err := m.write(ctx, m.path("keys", kek, "rotate"), nil); err != nil {
		return fmt.Errorf("rotating key-encryption key %s: %w", m.keyRef(kek), err)
	}
	m.log.InfoContext(ctx, "rotated key-encryption key", "jurisdiction", jurisdiction, "key_ref", m.keyRef(kek))
	return nil
}

// Rewrap re-encrypts a wrapped data key under the latest version of its
// key-encryption key (transit rewrap/<kek>): the plaintext key never leaves Vault.
// The KeyRef does not change. Errors are those of UnwrapDataKey. Rewrap is safe to
// retry; the caller must store the new wrapped key before it stops keeping the old one.
func (m *Manager) Rewrap(ctx context.Context, keyRef string, wrapped, aad []byte) ([]byte, error) {
	kek, err := m.kekOf(keyRef)
	if err != nil {
		return nil, fmt.Errorf("rewrapping data key: %w", err)
	}
	if _, ok := versionOf(string(wrapped)); !ok {
		return nil, fmt.Errorf("rewrapping data key under %s: wrapped key is not a transit ciphertext: %w", keyRef, keys.ErrUnwrap)
	}
	data, err := m.write(ctx, m.path("rewrap", kek), map[string]any{
		"ciphertext": string(wrapped),
		"context":    dataKeyContext(aad),
	})
	if isStatus(err, http.StatusBadRequest) {
		return nil, fmt.Errorf("rewrapping data key under %s: Vault refused it (wrong aad, altered or trimmed wrapped key): %w: %w", keyRef, keys.ErrUnwrap, err)
	}
	if err != nil {
		return nil, fmt.Errorf("rewrapping data key under %s: %w", keyRef, err)
	}
	ciphertext, _ := data["ciphertext"].(string)
	if _, ok := versionOf(ciphertext); !ok {
		return nil, fmt.Errorf("rewrapping data key under %s: Vault answered no ciphertext", keyRef)
	}
	return []byte(ciphertext), nil
}
