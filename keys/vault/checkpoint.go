package vault

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// CheckpointSigner returns a note.Signer for log checkpoints backed by the ed25519
// transit key, and its note verifier key ("origin+hash+base64key", the form
// note.NewVerifier and the trust root take). Its Name is Config.LogOrigin and its
// KeyHash that of note.NewEd25519VerifierKey, so notes it signs open with the verifier
// key.
//
// The signer is pinned to the key version that is latest at the time of the call:
// rotating the checkpoint key in Vault does not change the signatures of a running
// signer (a new log key needs a new trust root anyway). Each Sign is one transit
// sign/<key> request of pure Ed25519 over the raw note text (Vault community edition
// refuses prehashed Ed25519), bounded by callTimeout; Vault unavailability is an error
// wrapping keys.ErrUnavailable. Each signature is verified locally before it is
// returned.
func (m *Manager) CheckpointSigner(ctx context.Context) (note.Signer, string, error) {
	name := m.cfg.CheckpointKey
	info, err := m.readKey(ctx, name)
	if err != nil {
		return nil, "", fmt.Errorf("loading checkpoint signer: %w", err)
	}
	if info == nil {
		return nil, "", fmt.Errorf("loading checkpoint signer: transit key %s/%s does not exist", m.cfg.Mount, name)
	}
	latest, err := latestVersion(info)
	if err != nil {
		return nil, "", fmt.Errorf("loading checkpoint signer %s/%s: %w", m.cfg.Mount, name, err)
	}
	raw, err := base64.StdEncoding.DecodeString(latest.publicKey)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, "", fmt.Errorf("loading checkpoint signer %s/%s version %d: public key is not a base64 Ed25519 key", m.cfg.Mount, name, latest.version)
	}
	pub := ed25519.PublicKey(raw)
	vkey, err := note.NewEd25519VerifierKey(m.cfg.LogOrigin, pub)
	if err != nil {
		return nil, "", fmt.Errorf("loading checkpoint signer %s/%s: %w", m.cfg.Mount, name, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, "", fmt.Errorf("loading checkpoint signer %s/%s: %w", m.cfg.Mount, name, err)
	}
	return &checkpointSigner{m: m, name: m.cfg.LogOrigin, hash: v.KeyHash(), pub: pub, version: latest.version}, vkey, nil
}

// checkpointSigner is a note.Signer whose private key stays in Vault.
type checkpointSigner struct {
	m       *Manager
	name    string
	hash    uint32
	pub     ed25519.PublicKey
	version int
}

var _ note.Signer = (*checkpointSigner)(nil)

func (s *checkpointSigner) Name() string    { return s.name }
func (s *checkpointSigner) KeyHash() uint32 { return s.hash }

// Sign signs msg with the pinned version of the checkpoint key in Vault. note.Signer
// takes no context: the request is bounded by callTimeout alone.
func (s *checkpointSigner) Sign(msg []byte) ([]byte, error) {
	ctx := context.Background()
	key := s.m.cfg.CheckpointKey
	data, err := s.m.write(ctx, s.m.path("sign", key), map[string]any{
		"input":       base64.StdEncoding.EncodeToString(msg),
		"key_version": s.version,
	})
	if err != nil {
		return nil, fmt.Errorf("signing checkpoint with %s/%s version %d: %w", s.m.cfg.Mount, key, s.version, err)
	}
	encoded, _ := data["signature"].(string)
	v, ok := versionOf(encoded)
	if !ok || v != s.version {
		return nil, fmt.Errorf("signing checkpoint with %s/%s: Vault answered a signature of version %d, want %d", s.m.cfg.Mount, key, v, s.version)
	}
	sig, err := base64.StdEncoding.DecodeString(encoded[strings.LastIndexByte(encoded, ':')+1:])
	if err != nil || !ed25519.Verify(s.pub, msg, sig) {
		return nil, fmt.Errorf("signing checkpoint with %s/%s version %d: Vault's signature does not verify", s.m.cfg.Mount, key, s.version)
	}
	return sig, nil
}
