package vault

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
)

// signEnvelope signs payload into a DSSE envelope as the ledger does.
func signEnvelope(t *testing.T, sv signature.SignerVerifier, keyID string, payload []byte) custody.Envelope {
	t.Helper()
	raw, err := sigdsse.WrapSigner(sv, custody.PayloadType).SignMessage(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("signing envelope: %v", err)
	}
	env, err := custody.ParseEnvelope(raw)
	if err != nil {
		t.Fatalf("parsing envelope: %v", err)
	}
	for i := range env.Signatures {
		env.Signatures[i].KeyID = keyID
	}
	return env
}

// verifyEnvelope checks env as custody's verifier does: ASN.1 ECDSA over SHA-256 of
// the DSSE PAE, under the trusted key named by the signature's key id.
func verifyEnvelope(t *testing.T, env custody.Envelope, trusted []custody.TrustedKey) custody.TrustedKey {
	t.Helper()
	if len(env.Signatures) != 1 {
		t.Fatalf("envelope has %d signatures, want 1", len(env.Signatures))
	}
	s := env.Signatures[0]
	var key *custody.TrustedKey
	for i := range trusted {
		if trusted[i].KeyID == s.KeyID {
			key = &trusted[i]
		}
	}
	if key == nil {
		t.Fatalf("key id %s is not among the event keys", s.KeyID)
	}
	if key.Algorithm != custody.AlgECDSAP256 {
		t.Errorf("key algorithm %q, want %q", key.Algorithm, custody.AlgECDSAP256)
	}
	pub, err := ecdsaKey(key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := env.PayloadBytes()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Sig)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(custody.PAE(env.PayloadType, payload))
	if !ecdsa.VerifyASN1(pub, h[:], sig) {
		t.Fatalf("envelope signature does not verify as ASN.1 ECDSA P-256 over SHA-256 under key %s", key.KeyID)
	}
	return *key
}

func TestEventSignerAcrossRotation(t *testing.T) {
	m, cfg := newTestManager(t)
	sv1, id1, err := m.EventSigner(t.Context())
	if err != nil {
		t.Fatalf("EventSigner: %v", err)
	}
	pub1, err := sv1.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := custody.KeyID(pub1); got != id1 {
		t.Errorf("key id %s does not match the signer's public key (%s)", id1, got)
	}
	env1 := signEnvelope(t, sv1, id1, []byte(`{"event":1}`))

	c := rawClient(t, cfg.Address, cfg.Token)
	if _, err := c.Logical().WriteWithContext(t.Context(), "transit/keys/"+cfg.EventKey+"/rotate", nil); err != nil {
		t.Fatalf("rotating event key: %v", err)
	}
	if _, err := sv1.SignMessage(bytes.NewReader([]byte("after rotation"))); !errors.Is(err, ErrEventKeyRotated) {
		t.Errorf("old signer after rotation: got %v, want ErrEventKeyRotated", err)
	}
	sv2, id2, err := m.EventSigner(t.Context())
	if err != nil {
		t.Fatalf("EventSigner after rotation: %v", err)
	}
	if id2 == id1 {
		t.Fatalf("key id unchanged by rotation")
	}
	env2 := signEnvelope(t, sv2, id2, []byte(`{"event":2}`))

	trusted, err := m.EventKeys(t.Context())
	if err != nil {
		t.Fatalf("EventKeys: %v", err)
	}
	if len(trusted) != 2 {
		t.Fatalf("EventKeys lists %d keys, want 2", len(trusted))
	}
	if trusted[0].KeyID != id1 || trusted[1].KeyID != id2 {
		t.Errorf("EventKeys ids = %s, %s; want %s, %s", trusted[0].KeyID, trusted[1].KeyID, id1, id2)
	}
	// Version 2 is valid from rotationSkew before its creation, version 1 until it.
	if trusted[0].ValidUntil == nil || !trusted[0].ValidUntil.Equal(trusted[1].ValidFrom.Add(rotationSkew)) {
		t.Errorf("version 1 valid until %v, want version 2's creation %v", trusted[0].ValidUntil, trusted[1].ValidFrom.Add(rotationSkew))
	}
	if trusted[1].ValidUntil != nil {
		t.Errorf("latest version valid until %v, want open", trusted[1].ValidUntil)
	}
	if !trusted[0].ValidFrom.Before(trusted[1].ValidFrom) {
		t.Errorf("version 1 valid from %v, not before version 2 (%v)", trusted[0].ValidFrom, trusted[1].ValidFrom)
	}
	if k := verifyEnvelope(t, env1, trusted); k.KeyID != id1 {
		t.Errorf("envelope 1 verified under %s, want %s", k.KeyID, id1)
	}
	if k := verifyEnvelope(t, env2, trusted); k.KeyID != id2 {
		t.Errorf("envelope 2 verified under %s, want %s", k.KeyID, id2)
	}

	// The event keys and the checkpoint key make a trust root that a court can load.
	_, vkey, err := m.CheckpointSigner(t.Context())
	if err != nil {
		t.Fatalf("CheckpointSigner: %v", err)
	}
	tr := custody.TrustRoot{EventKeys: trusted, Log: custody.TrustedLog{Origin: testOrigin, VerifierKey: vkey}}
	b, err := tr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := custody.ParseTrustRoot(b); err != nil {
		t.Errorf("ParseTrustRoot: %v\n%s", err, b)
	}
}

func TestEventSignerVerifiesLocally(t *testing.T) {
	m, _ := newTestManager(t)
	sv, _, err := m.EventSigner(t.Context())
	if err != nil {
		t.Fatalf("EventSigner: %v", err)
	}
	msg := []byte("custody statement")
	sig, err := sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("SignMessage: %v", err)
	}
	if err := sv.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("VerifySignature: %v", err)
	}
	if err := sv.VerifySignature(bytes.NewReader(sig), bytes.NewReader([]byte("other"))); err == nil {
		t.Errorf("VerifySignature of another message succeeded")
	}
}

func TestCheckpointSigner(t *testing.T) {
	m, cfg := newTestManager(t)
	signer, vkey, err := m.CheckpointSigner(t.Context())
	if err != nil {
		t.Fatalf("CheckpointSigner: %v", err)
	}
	if signer.Name() != testOrigin {
		t.Errorf("Name() = %q, want %q", signer.Name(), testOrigin)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier(%q): %v", vkey, err)
	}
	if verifier.KeyHash() != signer.KeyHash() || verifier.Name() != signer.Name() {
		t.Errorf("verifier %s/%08x does not match signer %s/%08x", verifier.Name(), verifier.KeyHash(), signer.Name(), signer.KeyHash())
	}
	text := testOrigin + "\n42\nq6XRfqyKWXm4kwVtdZOZ/gn4hqnWOuJ5KXfuyjzsNrc=\n"
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatalf("note.Sign: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, msg)
	}
	if n.Text != text || len(n.Sigs) != 1 {
		t.Errorf("opened note %q with %d signatures, want %q with 1", n.Text, len(n.Sigs), text)
	}

	// A rotation in Vault does not change what a running signer signs with.
	c := rawClient(t, cfg.Address, cfg.Token)
	if _, err := c.Logical().WriteWithContext(t.Context(), "transit/keys/"+cfg.CheckpointKey+"/rotate", nil); err != nil {
		t.Fatalf("rotating checkpoint key: %v", err)
	}
	msg, err = note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatalf("note.Sign after rotation: %v", err)
	}
	if _, err := note.Open(msg, note.VerifierList(verifier)); err != nil {
		t.Errorf("note.Open after rotation: %v", err)
	}
	_, vkey2, err := m.CheckpointSigner(t.Context())
	if err != nil {
		t.Fatalf("CheckpointSigner after rotation: %v", err)
	}
	if vkey2 == vkey {
		t.Errorf("verifier key unchanged by rotation")
	}
}
