package custody

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// TrustRootMediaType identifies version 1 of the trust root format.
const TrustRootMediaType = "application/vnd.evidencegw.trust-root.v1+json"

// MaxTrustRootSize bounds an encoded trust root.
const MaxTrustRootSize = 1 << 20

// Algorithms of event-signing keys.
const (
	AlgECDSAP256 = "ecdsa-p256-sha256"
	AlgEd25519   = "ed25519"
)

// TrustRoot is what a court pins: the keys it accepts, published by the gateway operator
// out of band. Nothing in a bundle is trusted unless it verifies against a trust root.
type TrustRoot struct {
	MediaType string `json:"media_type"`
	// Version numbers the trust roots of one gateway from 1; absent means 1 (the first
	// release's trust roots have none). Previous is the hex SHA-256 of the encoded
	// version before, set from version 2 on (docs/bundle.md#trust-root-versions).
	Version   uint64       `json:"version,omitempty"`
	Previous  string       `json:"previous,omitempty"`
	EventKeys []TrustedKey `json:"event_keys"`
	Log       TrustedLog   `json:"log"`
	Witnesses Witnesses    `json:"witnesses"`
	// Agencies lists the agencies whose members sign their own acts, with the CAs that
	// issue their certificates. A trust root without it (the first release's) cannot
	// check an actor's signature.
	Agencies []TrustedAgency `json:"agencies,omitempty"`
}

// TrustedAgency is an agency or court of the exchange and the CA certificates that
// issue its members' certificates: an act is its member's only if the act's
// certificate chains to one of them.
type TrustedAgency struct {
	ID           string `json:"id"`
	Jurisdiction string `json:"jurisdiction"`
	// CACertificates holds one or more PEM "CERTIFICATE" blocks, each a CA.
	CACertificates string `json:"ca_certificates"`

	cas []*x509.Certificate
}

// NewTrustedAgency describes an agency whose members' certificates the given CAs issue.
func NewTrustedAgency(id, jurisdiction string, cas []*x509.Certificate) TrustedAgency {
	var b []byte
	for _, c := range cas {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return TrustedAgency{ID: id, Jurisdiction: jurisdiction, CACertificates: string(b), cas: cas}
}

// CAs returns the agency's CA certificates (of a parsed trust root).
func (a TrustedAgency) CAs() []*x509.Certificate { return a.cas }

func (a *TrustedAgency) load() error {
	if a.ID == "" || len(a.Jurisdiction) != 2 {
		return fmt.Errorf("agency %q: an id and a two-letter jurisdiction are required", a.ID)
	}
	a.cas = nil
	rest := []byte(a.CACertificates)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("agency %s: a PEM %s block among its CA certificates", a.ID, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("agency %s: CA certificate: %w", a.ID, err)
		}
		if !c.IsCA {
			return fmt.Errorf("agency %s: certificate %s is not a CA", a.ID, c.Subject)
		}
		a.cas = append(a.cas, c)
	}
	if len(a.cas) == 0 || len(bytes.TrimSpace(rest)) != 0 {
		return fmt.Errorf("agency %s: ca_certificates must be PEM CERTIFICATE blocks, one at least", a.ID)
	}
	return nil
}

// agency returns the trusted agency with the given id.
func (tr *TrustRoot) agency(id string) (TrustedAgency, bool) {
	for _, a := range tr.Agencies {
		if a.ID == id {
			return a, true
		}
	}
	return TrustedAgency{}, false
}

// TrustedKey is an event-signing public key and the period in which it may sign.
type TrustedKey struct {
	// KeyID is the lowercase hex SHA-256 of the key's PKIX DER encoding.
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"`
	// PublicKey is the PEM "PUBLIC KEY" (PKIX) encoding.
	PublicKey  string     `json:"public_key"`
	ValidFrom  time.Time  `json:"valid_from"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`

	public any
}

// TrustedLog names the transparency log and the key of its checkpoints.
type TrustedLog struct {
	Origin string `json:"origin"`
	// VerifierKey is a signed-note verifier key (golang.org/x/mod/sumdb/note).
	VerifierKey string `json:"verifier_key"`

	verifier note.Verifier
}

// Witnesses lists witness verifier keys and how many must cosign a checkpoint.
type Witnesses struct {
	// Quorum is how many distinct witnesses must cosign every checkpoint (0: none).
	Quorum int `json:"quorum"`
	// Keys are C2SP tlog-cosignature verifier keys (cosignature/v1, Ed25519), in the
	// signed-note vkey encoding.
	Keys []string `json:"keys"`
	// Policy, if set, is the gateway's witness policy (WitnessPolicy, Sigsum format):
	// every checkpoint must satisfy it too. Keys then lists exactly its witnesses' keys
	// and Quorum is the least number of them that can satisfy it.
	Policy string `json:"policy,omitempty"`

	verifiers []note.Verifier
	policy    *WitnessPolicy
}

// WitnessesFromPolicy describes a witness policy in a trust root.
func WitnessesFromPolicy(p *WitnessPolicy) Witnesses {
	w := Witnesses{Keys: []string{}}
	if !p.RequiresWitnesses() {
		return w
	}
	for _, pw := range p.Witnesses() {
		w.Keys = append(w.Keys, pw.VerifierKey)
	}
	w.Quorum, w.Policy = p.minWitnesses(), p.Text()
	return w
}

// load parses the witness keys and policy and checks that they agree.
func (w *Witnesses) load() error {
	if w.Quorum > len(w.Keys) || w.Quorum < 0 {
		return fmt.Errorf("witness quorum %d with %d keys", w.Quorum, len(w.Keys))
	}
	w.verifiers = nil
	seen := map[string]bool{}
	for _, k := range w.Keys {
		wv, err := witnessVerifier(k)
		if err != nil {
			return fmt.Errorf("witness key %q: %w", k, err)
		}
		id := fmt.Sprintf("%s+%08x", wv.Name(), wv.KeyHash())
		if seen[id] {
			return fmt.Errorf("witness key %q listed twice", k)
		}
		seen[id] = true
		w.verifiers = append(w.verifiers, wv)
	}
	if w.Policy == "" {
		return nil
	}
	p, err := ParseWitnessPolicy([]byte(w.Policy))
	if err != nil {
		return err
	}
	want := WitnessesFromPolicy(p)
	if w.Quorum != want.Quorum || !slices.Equal(w.Keys, want.Keys) {
		return fmt.Errorf("witness keys and quorum %d do not match the witness policy (its %d keys, quorum %d)", w.Quorum, len(want.Keys), want.Quorum)
	}
	w.policy = p
	return nil
}

// KeyID returns the key id of a public key: hex SHA-256 of its PKIX DER.
func KeyID(pub any) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}

// NewTrustedKey describes pub, valid from the given time on.
func NewTrustedKey(pub any, validFrom time.Time) (TrustedKey, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return TrustedKey{}, fmt.Errorf("encoding public key: %w", err)
	}
	id, _ := KeyID(pub)
	k := TrustedKey{
		KeyID:     id,
		PublicKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		ValidFrom: validFrom.UTC(),
	}
	if err := k.load(); err != nil {
		return TrustedKey{}, err
	}
	return k, nil
}

func (k *TrustedKey) load() error {
	block, _ := pem.Decode([]byte(k.PublicKey))
	if block == nil || block.Type != "PUBLIC KEY" {
		return fmt.Errorf("key %s: no PEM public key", k.KeyID)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("key %s: %w", k.KeyID, err)
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return fmt.Errorf("key %s: unsupported curve", k.KeyID)
		}
		k.Algorithm = orDefault(k.Algorithm, AlgECDSAP256)
		if k.Algorithm != AlgECDSAP256 {
			return fmt.Errorf("key %s: algorithm %q does not match an ECDSA P-256 key", k.KeyID, k.Algorithm)
		}
	case ed25519.PublicKey:
		k.Algorithm = orDefault(k.Algorithm, AlgEd25519)
		if k.Algorithm != AlgEd25519 {
			return fmt.Errorf("key %s: algorithm %q does not match an Ed25519 key", k.KeyID, k.Algorithm)
		}
	default:
		return fmt.Errorf("key %s: unsupported key type %T", k.KeyID, pub)
	}
	id, err := KeyID(pub)
	if err != nil {
		return err
	}
	if id != k.KeyID {
		return fmt.Errorf("key id %s does not match its key (%s)", k.KeyID, id)
	}
	k.public = pub
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// validAt reports whether the key may have signed at t.
func (k TrustedKey) validAt(t time.Time) bool {
	if t.Before(k.ValidFrom) {
		return false
	}
	return k.ValidUntil == nil || t.Before(*k.ValidUntil)
}

// ParseTrustRoot decodes and checks a trust root.
func ParseTrustRoot(b []byte) (*TrustRoot, error) {
	if len(b) > MaxTrustRootSize {
		return nil, fmt.Errorf("trust root of %d bytes exceeds %d", len(b), MaxTrustRootSize)
	}
	var tr TrustRoot
	if err := decodeStrict(b, &tr); err != nil {
		return nil, fmt.Errorf("decoding trust root: %w", err)
	}
	if tr.MediaType != TrustRootMediaType {
		return nil, fmt.Errorf("trust root media type %q, want %q", tr.MediaType, TrustRootMediaType)
	}
	if tr.Version > 1 && !hexDigestRe.MatchString(tr.Previous) {
		return nil, fmt.Errorf("trust root version %d names no previous version's SHA-256", tr.Version)
	}
	if tr.Version <= 1 && tr.Previous != "" {
		return nil, fmt.Errorf("trust root version 1 names a previous version")
	}
	if len(tr.EventKeys) == 0 {
		return nil, fmt.Errorf("trust root lists no event keys")
	}
	for i := range tr.EventKeys {
		if err := tr.EventKeys[i].load(); err != nil {
			return nil, fmt.Errorf("trust root: %w", err)
		}
	}
	v, err := note.NewVerifier(tr.Log.VerifierKey)
	if err != nil {
		return nil, fmt.Errorf("trust root: log verifier key: %w", err)
	}
	if v.Name() != tr.Log.Origin {
		return nil, fmt.Errorf("trust root: log verifier key is for %q, not the log origin %q", v.Name(), tr.Log.Origin)
	}
	tr.Log.verifier = v
	if err := tr.Witnesses.load(); err != nil {
		return nil, fmt.Errorf("trust root: %w", err)
	}
	seen := map[string]bool{}
	for i := range tr.Agencies {
		a := &tr.Agencies[i]
		if err := a.load(); err != nil {
			return nil, fmt.Errorf("trust root: %w", err)
		}
		if seen[a.ID] {
			return nil, fmt.Errorf("trust root: agency %s listed twice", a.ID)
		}
		seen[a.ID] = true
	}
	return &tr, nil
}

// Marshal encodes the trust root as indented JSON.
func (tr *TrustRoot) Marshal() ([]byte, error) {
	tr.MediaType = TrustRootMediaType
	b, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding trust root: %w", err)
	}
	return append(b, '\n'), nil
}

// key returns the trusted key with the given id.
func (tr *TrustRoot) key(id string) (TrustedKey, bool) {
	for _, k := range tr.EventKeys {
		if k.KeyID == id {
			return k, true
		}
	}
	return TrustedKey{}, false
}
