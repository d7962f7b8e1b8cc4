package exhibittest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/keys"
)

// KeyManager is an in-memory keys.DataKeys and exhibit.Rotator with versioned
// key-encryption keys, one per jurisdiction, as Vault Transit keeps them: a data key is
// wrapped under the latest version, Rotate adds a version, Rewrap moves a wrapped key to
// the latest one, and Retire stops the old versions from unwrapping, so that a test can
// tell which wrapped key the service used. Safe for concurrent use.
type KeyManager struct {
	mu       sync.Mutex
	failHook func(op string) error
	keks     map[string][]cipher.AEAD // by jurisdiction, index = version-1
	first    map[string]int           // the oldest version that still unwraps
}

var (
	_ keys.DataKeys   = (*KeyManager)(nil)
	_ exhibit.Rotator = (*KeyManager)(nil)
)

// NewKeyManager returns a key manager with no keys yet: a jurisdiction gets version 1
// of its key-encryption key when it is first used.
func NewKeyManager() *KeyManager {
	return &KeyManager{keks: map[string][]cipher.AEAD{}, first: map[string]int{}}
}

const keyRefPrefix = "fake:kek-"

// SetFail makes every method call f first with its name ("NewDataKey",
// "UnwrapDataKey", "Rotate", "Rewrap"); a non-nil error fails the call. nil clears it.
func (k *KeyManager) SetFail(f func(op string) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failHook = f
}

func (k *KeyManager) fail(op string) error {
	k.mu.Lock()
	f := k.failHook
	k.mu.Unlock()
	if f == nil {
		return nil
	}
	if err := f(op); err != nil {
		return fmt.Errorf("fake key manager: %s: %w", op, err)
	}
	return nil
}

// latest returns the latest version of j's key-encryption key, making version 1 if
// there is none. Called with mu held.
func (k *KeyManager) latest(j string) (int, cipher.AEAD, error) {
	if len(k.keks[j]) == 0 {
		if err := k.addVersion(j); err != nil {
			return 0, nil, err
		}
	}
	v := len(k.keks[j])
	return v, k.keks[j][v-1], nil
}

// addVersion adds a new version of j's key-encryption key. Called with mu held.
func (k *KeyManager) addVersion(j string) error {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	k.keks[j] = append(k.keks[j], aead)
	if k.first[j] == 0 {
		k.first[j] = 1
	}
	return nil
}

// wrap seals key under version v: "v<n>:" then the nonce and the sealed key.
func wrap(v int, aead cipher.AEAD, key, aad []byte) []byte {
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte("v"+strconv.Itoa(v)+":"), nonce...)
	return aead.Seal(out, nonce, key, aad)
}

// NewDataKey implements keys.DataKeys.
func (k *KeyManager) NewDataKey(_ context.Context, jurisdiction string, aad []byte) (keys.DataKey, error) {
	if err := k.fail("NewDataKey"); err != nil {
		return keys.DataKey{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	v, aead, err := k.latest(jurisdiction)
	if err != nil {
		return keys.DataKey{}, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	return keys.DataKey{Plaintext: key, Wrapped: wrap(v, aead, key, aad), KeyRef: keyRefPrefix + jurisdiction}, nil
}

// UnwrapDataKey implements keys.DataKeys.
func (k *KeyManager) UnwrapDataKey(_ context.Context, keyRef string, wrapped, aad []byte) ([]byte, error) {
	if err := k.fail("UnwrapDataKey"); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.unwrap(keyRef, wrapped, aad)
}

// unwrap opens a wrapped key. Called with mu held.
func (k *KeyManager) unwrap(keyRef string, wrapped, aad []byte) ([]byte, error) {
	j, ok := strings.CutPrefix(keyRef, keyRefPrefix)
	if !ok || len(k.keks[j]) == 0 {
		return nil, fmt.Errorf("unknown key ref %q: %w", keyRef, keys.ErrUnwrap)
	}
	v, rest, err := version(wrapped)
	if err != nil {
		return nil, err
	}
	if v < k.first[j] || v > len(k.keks[j]) {
		return nil, fmt.Errorf("version %d of %s is retired or unknown: %w", v, keyRef, keys.ErrUnwrap)
	}
	aead := k.keks[j][v-1]
	if len(rest) < aead.NonceSize() {
		return nil, fmt.Errorf("wrapped key too short: %w", keys.ErrUnwrap)
	}
	key, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("wrapped key does not open under %s version %d: %w", keyRef, v, keys.ErrUnwrap)
	}
	return key, nil
}

// version splits a wrapped key into its key-encryption key version and the rest.
func version(wrapped []byte) (int, []byte, error) {
	head, rest, ok := strings.Cut(string(wrapped), ":")
	if !ok || !strings.HasPrefix(head, "v") {
		return 0, nil, fmt.Errorf("wrapped key has no version: %w", keys.ErrUnwrap)
	}
	v, err := strconv.Atoi(head[1:])
	if err != nil || v < 1 {
		return 0, nil, fmt.Errorf("wrapped key has version %q: %w", head, keys.ErrUnwrap)
	}
	return v, []byte(rest), nil
}

// WrappedVersion returns the key-encryption key version a wrapped key is sealed under.
func WrappedVersion(wrapped []byte) (int, error) {
	v, _, err := version(wrapped)
	return v, err
}

// Rotate implements exhibit.Rotator.
func (k *KeyManager) Rotate(_ context.Context, jurisdiction string) error {
	if err := k.fail("Rotate"); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, _, err := k.latest(jurisdiction); err != nil {
		return err
	}
	return k.addVersion(jurisdiction)
}

// Rewrap implements exhibit.Rotator.
func (k *KeyManager) Rewrap(_ context.Context, keyRef string, wrapped, aad []byte) ([]byte, error) {
	if err := k.fail("Rewrap"); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	key, err := k.unwrap(keyRef, wrapped, aad)
	if err != nil {
		return nil, err
	}
	j := strings.TrimPrefix(keyRef, keyRefPrefix)
	v, aead, err := k.latest(j)
	if err != nil {
		return nil, err
	}
	return wrap(v, aead, key, aad), nil
}

// Versions returns how many versions of j's key-encryption key exist.
func (k *KeyManager) Versions(jurisdiction string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keks[jurisdiction])
}

// Retire stops every version of j's key-encryption key but the latest from
// unwrapping, as Vault's min_decryption_version does.
func (k *KeyManager) Retire(jurisdiction string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keks[jurisdiction]) == 0 {
		return errors.New("fake key manager: no key to retire")
	}
	k.first[jurisdiction] = len(k.keks[jurisdiction])
	return nil
}
