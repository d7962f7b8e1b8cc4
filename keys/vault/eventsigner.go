package vault

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/evidencegw/evidencegw/custody"
)

// rotationSkew is how long before its creation a new event key version is valid.
const rotationSkew = time.Minute

// ErrEventKeyRotated is returned by the event signer once the event key has been
// rotated in Vault: the signer's key id would no longer name the signing key. Get a
// new signer from EventSigner (and publish the trust root from EventKeys).
var ErrEventKeyRotated = errors.New("custody event key rotated since the signer was created")

// EventSigner returns the custody event signer, a sigstore SignerVerifier backed by
// the ecdsa-p256 transit key through sigstore's kms/hashivault provider, and the
// custody key id (custody.KeyID) of the key version that signs: the latest version at
// the time of the call.
//
// Signatures are ASN.1 DER ECDSA over SHA-256 of the message, as custody verifies
// them. The signer verifies each signature against the version's public key before
// returning it. After a rotation of the event key in Vault it returns errors
// wrapping ErrEventKeyRotated rather than sign under a key id that no longer
// matches. Its PublicKey and VerifySignature are local (no Vault call). Each signature
// is bounded by callTimeout; Vault unavailability is an error wrapping
// keys.ErrUnavailable.
func (m *Manager) EventSigner(ctx context.Context) (signature.SignerVerifier, string, error) {
	info, err := m.readKey(ctx, m.cfg.EventKey)
	if err != nil {
		return nil, "", fmt.Errorf("loading custody event signer: %w", err)
	}
	if info == nil {
		return nil, "", fmt.Errorf("loading custody event signer: transit key %s/%s does not exist", m.cfg.Mount, m.cfg.EventKey)
	}
	latest, err := latestVersion(info)
	if err != nil {
		return nil, "", fmt.Errorf("loading custody event signer %s/%s: %w", m.cfg.Mount, m.cfg.EventKey, err)
	}
	pub, err := ecdsaKey(latest.publicKey)
	if err != nil {
		return nil, "", fmt.Errorf("loading custody event signer %s/%s version %d: %w", m.cfg.Mount, m.cfg.EventKey, latest.version, err)
	}
	keyID, err := custody.KeyID(pub)
	if err != nil {
		return nil, "", err
	}
	// The provider reads VAULT_ADDR, VAULT_TOKEN and TRANSIT_SECRET_ENGINE_PATH only
	// when the corresponding option is empty; all three are given here.
	hv, err := hashivault.LoadSignerVerifier("hashivault://"+m.cfg.EventKey, crypto.SHA256,
		options.WithRPCAuthOpts(options.RPCAuth{Address: m.cfg.Address, Token: m.client.Token(), Path: m.cfg.Mount}))
	if err != nil {
		return nil, "", fmt.Errorf("loading custody event signer %s/%s: %w", m.cfg.Mount, m.cfg.EventKey, err)
	}
	verifier, err := signature.LoadECDSAVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, "", err
	}
	return &eventSigner{hv: hv, ECDSAVerifier: verifier, version: latest.version, addr: m.cfg.Address}, keyID, nil
}

// eventSigner signs through the hashivault provider with the latest version of the
// event key and checks that this is still the version it was created for.
type eventSigner struct {
	hv *hashivault.SignerVerifier
	// ECDSAVerifier provides PublicKey and VerifySignature, local and pinned to version.
	*signature.ECDSAVerifier
	version int
	addr    string
}

var _ signature.SignerVerifier = (*eventSigner)(nil)

// SignMessage signs the message through Vault. The provider takes no context, so
// the call runs in its own goroutine and is abandoned after callTimeout (or when an
// options.WithContext context ends); the provider's own HTTP client ends it later.
func (s *eventSigner) SignMessage(message io.Reader, opts ...signature.SignOption) ([]byte, error) {
	ctx := context.Background()
	for _, o := range opts {
		o.ApplyContext(&ctx)
	}
	msg, err := io.ReadAll(message)
	if err != nil {
		return nil, fmt.Errorf("signing custody event: reading message: %w", err)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	type result struct {
		sig     []byte
		version string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.sig, r.err = s.hv.SignMessage(bytes.NewReader(msg), options.ReturnKeyVersionUsed(&r.version))
		done <- r
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("signing custody event with Vault: %w", checkErr(parent, s.addr, ctx.Err()))
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("signing custody event with Vault: %w", checkErr(parent, s.addr, r.err))
		}
		return s.check(msg, r.sig, r.version)
	}
}

// check accepts a signature only if Vault made it with the signer's key version and
// it verifies under that version's public key.
func (s *eventSigner) check(msg, sig []byte, used string) ([]byte, error) {
	v, ok := versionOf(used)
	if !ok {
		return nil, fmt.Errorf("signing custody event with Vault: signature carries no key version (%q)", used)
	}
	if v != s.version {
		return nil, fmt.Errorf("signing custody event: Vault signed with version %d, signer is for version %d: %w", v, s.version, ErrEventKeyRotated)
	}
	if err := s.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		return nil, fmt.Errorf("signing custody event: Vault's signature does not verify under version %d: %w", s.version, err)
	}
	return sig, nil
}

// EventKeys lists every version of the event key that Vault holds as trust-root keys:
// ValidFrom is the version's creation time in Vault, ValidUntil the creation time of
// the next version (none for the latest), so that events signed before a rotation
// still verify offline and an old version cannot sign for later times.
func (m *Manager) EventKeys(ctx context.Context) ([]custody.TrustedKey, error) {
	info, err := m.readKey(ctx, m.cfg.EventKey)
	if err != nil {
		return nil, fmt.Errorf("listing custody event keys: %w", err)
	}
	if info == nil || len(info.versions) == 0 {
		return nil, fmt.Errorf("listing custody event keys: transit key %s/%s has no versions", m.cfg.Mount, m.cfg.EventKey)
	}
	out := make([]custody.TrustedKey, 0, len(info.versions))
	for i, kv := range info.versions {
		pub, err := ecdsaKey(kv.publicKey)
		if err != nil {
			return nil, fmt.Errorf("listing custody event keys: version %d: %w", kv.version, err)
		}
		// A version is valid from a little before its creation: an event stamped just
		// before a rotation may be signed by the new version (the ledger refreshes its
		// signer and retries). The previous version stays valid until the creation.
		tk, err := custody.NewTrustedKey(pub, kv.created.Add(-rotationSkew))
		if err != nil {
			return nil, fmt.Errorf("listing custody event keys: version %d: %w", kv.version, err)
		}
		if i+1 < len(info.versions) {
			until := info.versions[i+1].created.UTC()
			tk.ValidUntil = &until
		}
		out = append(out, tk)
	}
	return out, nil
}

func latestVersion(info *keyInfo) (keyVersion, error) {
	for _, kv := range info.versions {
		if kv.version == info.latestVersion {
			return kv, nil
		}
	}
	return keyVersion{}, fmt.Errorf("latest version %d is not listed", info.latestVersion)
}

// ecdsaKey parses the PEM public key of an ecdsa-p256 transit key version.
func ecdsaKey(pemKey string) (*ecdsa.PublicKey, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(pemKey))
	if err != nil {
		return nil, fmt.Errorf("parsing public key: %w", err)
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("public key is a %T, want ECDSA P-256", pub)
	}
	return k, nil
}

// RotateEventKey adds a new version to the custody event key (transit
// keys/<EventKey>/rotate). Signers made before it then fail with ErrEventKeyRotated;
// EventKeys lists the old version as valid until the new one's creation, so events it
// signed keep verifying offline.
func (m *Manager) RotateEventKey(ctx context.Context) error {
	if _, err := m.write(ctx, m.path("keys", m.cfg.EventKey, "rotate"), nil); err != nil {
		return fmt.Errorf("rotating custody event key %s/%s: %w", m.cfg.Mount, m.cfg.EventKey, err)
	}
	m.log.InfoContext(ctx, "rotated custody event key", "key", m.cfg.Mount+"/"+m.cfg.EventKey)
	return nil
}
