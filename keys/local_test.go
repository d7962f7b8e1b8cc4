package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
)

const testOrigin = "example.org/evidencegw/log"

func openLocal(t *testing.T, dir string) *Local {
	t.Helper()
	l, err := OpenLocal(dir, testOrigin)
	if err != nil {
		t.Fatalf("OpenLocal(%s) = %v", dir, err)
	}
	return l
}

func TestDataKeyRoundTrip(t *testing.T) {
	l := openLocal(t, t.TempDir())
	aad := []byte("ev-01J9ZQ")
	dk, err := l.NewDataKey(t.Context(), "nl", aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(dk.Plaintext) != 32 || len(dk.Wrapped) != 12+32+16 || dk.KeyRef != LocalKEKRef {
		t.Fatalf("NewDataKey = {%d-byte key, %d-byte wrapped, %q}, want {32, 60, %q}",
			len(dk.Plaintext), len(dk.Wrapped), dk.KeyRef, LocalKEKRef)
	}
	got, err := l.UnwrapDataKey(t.Context(), dk.KeyRef, dk.Wrapped, aad)
	if err != nil {
		t.Fatalf("UnwrapDataKey = %v", err)
	}
	if !bytes.Equal(got, dk.Plaintext) {
		t.Errorf("UnwrapDataKey returned another key than NewDataKey's")
	}
	other, _ := l.NewDataKey(t.Context(), "nl", aad)
	if bytes.Equal(other.Plaintext, dk.Plaintext) || bytes.Equal(other.Wrapped[:12], dk.Wrapped[:12]) {
		t.Errorf("two NewDataKey calls returned the same key or nonce")
	}
}

func TestUnwrapFailures(t *testing.T) {
	l := openLocal(t, t.TempDir())
	aad := []byte("ev-1")
	dk, err := l.NewDataKey(t.Context(), "", aad)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(dk.Wrapped)
	flipped[20] ^= 1
	stranger := openLocal(t, t.TempDir())
	tests := []struct {
		name    string
		l       *Local
		keyRef  string
		wrapped []byte
		aad     []byte
	}{
		{"wrong aad", l, dk.KeyRef, dk.Wrapped, []byte("ev-2")},
		{"empty aad", l, dk.KeyRef, dk.Wrapped, nil},
		{"wrong key ref", l, "local:kek-v2", dk.Wrapped, aad},
		{"vault key ref", l, "vault:transit/keys/nl:1", dk.Wrapped, aad},
		{"altered wrapped key", l, dk.KeyRef, flipped, aad},
		{"truncated wrapped key", l, dk.KeyRef, dk.Wrapped[:40], aad},
		{"other key directory", stranger, dk.KeyRef, dk.Wrapped, aad},
	}
	for _, tt := range tests {
		got, err := tt.l.UnwrapDataKey(t.Context(), tt.keyRef, tt.wrapped, tt.aad)
		if !errors.Is(err, ErrUnwrap) {
			t.Errorf("%s: UnwrapDataKey = %x, %v; want an error wrapping ErrUnwrap", tt.name, got, err)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	l := openLocal(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.NewDataKey(ctx, "", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("NewDataKey with cancelled context: got error %v, want context.Canceled", err)
	}
}

func TestPersistence(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	first := openLocal(t, dir)
	aad := []byte("ev-1")
	dk, err := first.NewDataKey(t.Context(), "", aad)
	if err != nil {
		t.Fatal(err)
	}
	second := openLocal(t, dir)
	got, err := second.UnwrapDataKey(t.Context(), dk.KeyRef, dk.Wrapped, aad)
	if err != nil || !bytes.Equal(got, dk.Plaintext) {
		t.Errorf("after reopen UnwrapDataKey = %v, want the same key back", err)
	}
	if a, b := first.CheckpointVerifierKey(), second.CheckpointVerifierKey(); a != b {
		t.Errorf("checkpoint verifier key after reopen = %q, want %q", b, a)
	}
	if !first.EventPublicKey().(*ecdsa.PublicKey).Equal(second.EventPublicKey()) {
		t.Errorf("event public key changed across reopen")
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	openLocal(t, dir)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("key directory mode = %#o, want 0700", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, _ := e.Info()
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %#o, want 0600", e.Name(), got)
		}
	}
	if got, want := strings.Join(names, " "), "checkpoint.key event-signing.pem kek.key"; got != want {
		t.Errorf("key directory holds %q, want %q", got, want)
	}

	// A key file others may read is refused.
	if err := os.Chmod(filepath.Join(dir, KEKFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(dir, testOrigin); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Errorf("OpenLocal with a world-readable kek.key = %v, want an error about its mode", err)
	}
}

func TestOpenLocalRefusals(t *testing.T) {
	dir := t.TempDir()
	openLocal(t, dir)

	if _, err := OpenLocal(dir, "other.example/log"); err == nil || !strings.Contains(err.Error(), "other.example/log") {
		t.Errorf("OpenLocal with another origin = %v, want an error naming it", err)
	}
	for _, origin := range []string{"", "has space", "a+b"} {
		if _, err := OpenLocal(t.TempDir(), origin); err == nil {
			t.Errorf("OpenLocal with origin %q succeeded, want an error", origin)
		}
	}
	if err := os.Remove(filepath.Join(dir, KEKFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocal(dir, testOrigin); err == nil || !strings.Contains(err.Error(), KEKFile) {
		t.Errorf("OpenLocal with kek.key missing = %v, want an error naming it", err)
	}
	if _, err := os.Stat(filepath.Join(dir, KEKFile)); err == nil {
		t.Errorf("OpenLocal replaced a missing kek.key, want it left missing")
	}
}

func TestCorruptKeyFiles(t *testing.T) {
	tests := []struct {
		file string
		data string
	}{
		{KEKFile, "short"},
		{EventKeyFile, "not pem"},
		{EventKeyFile, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
		{CheckpointKeyFile, "PRIVATE+KEY+x+00000000+AAAA\n"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		openLocal(t, dir)
		p := filepath.Join(dir, tt.file)
		os.Remove(p)
		if err := os.WriteFile(p, []byte(tt.data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenLocal(dir, testOrigin); err == nil || !strings.Contains(err.Error(), tt.file) {
			t.Errorf("OpenLocal with %s = %q: got %v, want an error naming the file", tt.file, tt.data, err)
		}
	}
}

func TestEventSigner(t *testing.T) {
	l := openLocal(t, t.TempDir())
	msg := []byte("custody event")
	sig, err := l.EventSigner().SignMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	v, err := signature.LoadVerifier(l.EventPublicKey(), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Errorf("signature does not verify under EventPublicKey: %v", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader([]byte("other"))); err == nil {
		t.Errorf("signature verifies for another message")
	}
}

func TestCheckpointSigner(t *testing.T) {
	l := openLocal(t, t.TempDir())
	s := l.CheckpointSigner()
	if s.Name() != testOrigin {
		t.Errorf("CheckpointSigner().Name() = %q, want %q", s.Name(), testOrigin)
	}
	v, err := note.NewVerifier(l.CheckpointVerifierKey())
	if err != nil {
		t.Fatalf("note.NewVerifier(%q) = %v", l.CheckpointVerifierKey(), err)
	}
	text := testOrigin + "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	signed, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open with the verifier key = %v", err)
	}
	if n.Text != text {
		t.Errorf("opened note text = %q, want %q", n.Text, text)
	}
}

func TestVerifierKeyWithPlusInKey(t *testing.T) {
	// Base64 keys often contain '+': the derivation must not split on it.
	for i := range 50 {
		skey, vkey, err := note.GenerateKey(nil, fmt.Sprintf("o%d", i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := verifierKey(fmt.Sprintf("o%d", i), skey)
		if err != nil || got != vkey {
			t.Fatalf("verifierKey(%q) = %q, %v; want %q", skey, got, err, vkey)
		}
	}
}

func TestLogValueRedacts(t *testing.T) {
	dir := t.TempDir()
	l := openLocal(t, dir)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("keys", "local", l)
	kek, _ := os.ReadFile(filepath.Join(dir, KEKFile))
	pemData, _ := os.ReadFile(filepath.Join(dir, EventKeyFile))
	cp, _ := os.ReadFile(filepath.Join(dir, CheckpointKeyFile))
	out := buf.String()
	if strings.Contains(out, "PRIVATE") || bytes.Contains(buf.Bytes(), kek) || strings.Contains(out, string(pemData[40:60])) || strings.Contains(out, string(cp[len(cp)-20:])) {
		t.Errorf("logging a Local printed key material: %s", out)
	}
}
