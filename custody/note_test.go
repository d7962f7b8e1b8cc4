package custody

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// Signed notes (C2SP signed-note) and checkpoints (C2SP tlog-checkpoint) as the verifier
// reads them: ParseTrustRoot turns the log's verifier key into a note.Verifier with
// note.NewVerifier; verifyInclusion opens each proof's checkpoint with log.ParseCheckpoint,
// which calls note.Open with that one verifier.

const testOrigin = "log.example/custody"

// fixedRand is a deterministic stream for key generation, so that keys, signatures and
// failures reproduce from run to run.
func fixedRand(seed string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256([]byte(seed)))
}

type noteKey struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// newNoteKey returns the Ed25519 note key derived from seed, under name.
func newNoteKey(t testing.TB, seed, name string) noteKey {
	t.Helper()
	skey, vkey, err := note.GenerateKey(fixedRand(seed), name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return noteKey{signer: s, verifier: v, vkey: vkey}
}

// signNote signs text with each key, in order.
func signNote(t testing.TB, text string, keys ...noteKey) string {
	t.Helper()
	var signers []note.Signer
	for _, k := range keys {
		signers = append(signers, k.signer)
	}
	msg, err := note.Sign(&note.Note{Text: text}, signers...)
	if err != nil {
		t.Fatalf("signing %q: %v", text, err)
	}
	return string(msg)
}

// sigLine returns the signature line ("— name base64\n") of key over text.
func sigLine(t testing.TB, text string, k noteKey) string {
	t.Helper()
	return strings.TrimPrefix(signNote(t, text, k), text+"\n")
}

// editSig decodes the signature of a signature line (4 bytes of key hash, then the
// signature), lets edit change it, and re-encodes it.
func editSig(t testing.TB, line string, edit func(sig []byte) []byte) string {
	t.Helper()
	prefix, b64, ok := cutLast(strings.TrimSuffix(line, "\n"), " ")
	sig, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		t.Fatalf("signature line %q: %v", line, err)
	}
	return prefix + " " + base64.StdEncoding.EncodeToString(edit(sig)) + "\n"
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// verifierKey encodes a note verifier key with a correct key hash (C2SP signed-note:
// the first four bytes of SHA-256(name || "\n" || key)), whatever the key.
func verifierKey(name string, key []byte) string {
	h := sha256.Sum256(append([]byte(name+"\n"), key...))
	return fmt.Sprintf("%s+%08x+%s", name, binary.BigEndian.Uint32(h[:4]), base64.StdEncoding.EncodeToString(key))
}

func TestNoteOpen(t *testing.T) {
	logKey := newNoteKey(t, "log", testOrigin)
	impostor := newNoteKey(t, "impostor", testOrigin) // the log's name, another key
	witness := newNoteKey(t, "witness", "witness.example/w1")
	text := testOrigin + "\n5\n" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)) + "\n"
	logSig := sigLine(t, text, logKey)
	witnessSig := sigLine(t, text, witness)
	flipped := editSig(t, logSig, func(s []byte) []byte { s[10] ^= 1; return s })
	logOnly := []note.Verifier{logKey.verifier}

	tests := []struct {
		name      string
		msg       string
		verifiers []note.Verifier
		wantErr   string // "" = opens
		// For notes that open: how many signatures verified and how many were unknown.
		wantSigs, wantUnverified int
	}{
		{"signed by the log", text + "\n" + logSig, logOnly, "", 1, 0},
		{"unknown witness signature is ignored", text + "\n" + logSig + witnessSig, logOnly, "", 1, 1},
		{"unknown signature first", text + "\n" + witnessSig + logSig, logOnly, "", 1, 1},
		{"two known signers", text + "\n" + logSig + witnessSig, []note.Verifier{logKey.verifier, witness.verifier}, "", 2, 0},
		{"repeated signature counts once", text + "\n" + logSig + logSig, logOnly, "", 1, 0},
		{"repeated unknown signature counts once", text + "\n" + logSig + witnessSig + witnessSig, logOnly, "", 1, 1},
		// Lenient, harmless: a key's later signatures are dropped unchecked once one has
		// verified; the text is covered by the one that did.
		{"bad signature after a good one by the same key", text + "\n" + logSig + flipped, logOnly, "", 1, 0},
		{"100 signature lines", text + "\n" + logSig + strings.Repeat(witnessSig, 99), logOnly, "", 1, 1},

		{"only an unknown signature", text + "\n" + witnessSig, logOnly, "no verifiable signatures", 0, 0},
		{"no verifiers", text + "\n" + logSig, nil, "no verifiable signatures", 0, 0},
		{"the log's name, another key", text + "\n" + sigLine(t, text, impostor), logOnly, "no verifiable signatures", 0, 0},
		{"key hash altered", text + "\n" + editSig(t, logSig, func(s []byte) []byte { s[0] ^= 1; return s }), logOnly, "no verifiable signatures", 0, 0},
		{"signature bit flipped", text + "\n" + flipped, logOnly, "invalid signature for key " + testOrigin, 0, 0},
		{"bad signature before a good one", text + "\n" + flipped + logSig, logOnly, "invalid signature", 0, 0},
		{"signature truncated", text + "\n" + editSig(t, logSig, func(s []byte) []byte { return s[:40] }), logOnly, "invalid signature", 0, 0},
		{"text changed after signing", strings.Replace(text, "\n5\n", "\n6\n", 1) + "\n" + logSig, logOnly, "invalid signature", 0, 0},
		{"extra blank line before the signatures", text + "\n\n" + logSig, logOnly, "invalid signature", 0, 0},
		{"verifier listed twice", text + "\n" + logSig, []note.Verifier{logKey.verifier, logKey.verifier}, "ambiguous key", 0, 0},
		{"101 signature lines", text + "\n" + logSig + strings.Repeat(witnessSig, 100), logOnly, "malformed note", 0, 0},
		{"101 copies of one signature", text + "\n" + strings.Repeat(logSig, 101), logOnly, "malformed note", 0, 0},

		{"no signature block", text, logOnly, "malformed note", 0, 0},
		{"blank line but no signatures", text + "\n", logOnly, "malformed note", 0, 0},
		{"no final newline", text + "\n" + strings.TrimSuffix(logSig, "\n"), logOnly, "malformed note", 0, 0},
		{"ASCII dash instead of em dash", text + "\n" + strings.Replace(logSig, "—", "-", 1), logOnly, "malformed note", 0, 0},
		{"no space after the dash", text + "\n" + strings.Replace(logSig, "— ", "—", 1), logOnly, "malformed note", 0, 0},
		{"signature line without signature", text + "\n— " + testOrigin + "\n", logOnly, "malformed note", 0, 0},
		{"signature not base64", text + "\n— " + testOrigin + " not-base64!\n", logOnly, "malformed note", 0, 0},
		{"signature of 4 bytes", text + "\n— " + testOrigin + " AAAAAA==\n", logOnly, "malformed note", 0, 0},
		{"signer name with a plus", text + "\n" + strings.Replace(logSig, testOrigin, "a+b", 1), logOnly, "malformed note", 0, 0},
		{"line after the signatures", text + "\n" + logSig + "unexpected\n", logOnly, "malformed note", 0, 0},
		{"control character in text", "\x01" + text + "\n" + logSig, logOnly, "malformed note", 0, 0},
		{"tab in text", strings.Replace(text, "\n5", "\n\t5", 1) + "\n" + logSig, logOnly, "malformed note", 0, 0},
		{"CRLF line endings", strings.ReplaceAll(text+"\n"+logSig, "\n", "\r\n"), logOnly, "malformed note", 0, 0},
		{"invalid UTF-8", "\xff" + text + "\n" + logSig, logOnly, "malformed note", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := note.Open([]byte(tt.msg), note.VerifierList(tt.verifiers...))
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want an error mentioning %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("got %v, want no error", err)
			case len(n.Sigs) != tt.wantSigs || len(n.UnverifiedSigs) != tt.wantUnverified:
				t.Errorf("got %d verified and %d unknown signatures, want %d and %d",
					len(n.Sigs), len(n.UnverifiedSigs), tt.wantSigs, tt.wantUnverified)
			case n.Text != text:
				t.Errorf("got text %q, want %q", n.Text, text)
			}
		})
	}
}

func TestNoteNewVerifier(t *testing.T) {
	k := newNoteKey(t, "log", testOrigin)
	name, rest, _ := strings.Cut(k.vkey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil {
		t.Fatal(err)
	}
	other := newNoteKey(t, "other", testOrigin)
	skey, _, err := note.GenerateKey(fixedRand("log"), testOrigin)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		vkey    string
		wantErr string // "" = accepted
	}{
		{"valid", k.vkey, ""},
		// Lenient, harmless: the key hash is compared as a number, and the base64 decoder
		// skips line breaks (a key pasted with a newline into the trust root).
		{"upper-case key hash", name + "+" + strings.ToUpper(hash) + "+" + key64, ""},
		{"trailing newline", k.vkey + "\n", ""},

		{"empty", "", "malformed verifier id"},
		{"name only", name, "malformed verifier id"},
		{"no key", name + "+" + hash, "malformed verifier id"},
		{"empty key", name + "+" + hash + "+", "malformed verifier id"},
		{"empty name", "+" + hash + "+" + key64, "malformed verifier id"},
		{"name with a space", verifierKey("log example", key), "malformed verifier id"},
		{"key hash of 7 digits", name + "+" + hash[1:] + "+" + key64, "malformed verifier id"},
		{"key hash of 9 digits", name + "+0" + hash + "+" + key64, "malformed verifier id"},
		{"key hash not hex", name + "+zzzzzzzz+" + key64, "malformed verifier id"},
		{"key not base64", name + "+" + hash + "+" + key64[:len(key64)-1] + "!", "malformed verifier id"},
		{"trailing space", k.vkey + " ", "malformed verifier id"},
		{"trailing plus and data", k.vkey + "+x", "malformed verifier id"},
		{"private key", skey, "malformed verifier id"},
		{"key hash of another key", name + "+" + hash + "+" + strings.SplitN(other.vkey, "+", 3)[2], "invalid verifier hash"},
		{"name changed", "log.example/other+" + hash + "+" + key64, "invalid verifier hash"},
		{"key hash off by one", fmt.Sprintf("%s+%08x+%s", name, k.verifier.KeyHash()+1, key64), "invalid verifier hash"},
		{"unknown algorithm", verifierKey(name, append([]byte{0x7f}, key[1:]...)), "unknown verifier algorithm"},
		{"Ed25519 key of 31 bytes", verifierKey(name, key[:32]), "malformed verifier id"},
		{"Ed25519 key of 33 bytes", verifierKey(name, append(key, 0)), "malformed verifier id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := note.NewVerifier(tt.vkey)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("NewVerifier(%q): got %v, want an error mentioning %q", tt.vkey, err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("NewVerifier(%q): got %v, want no error", tt.vkey, err)
			case v.Name() != testOrigin || v.KeyHash() != k.verifier.KeyHash():
				t.Errorf("got %s+%08x, want %s+%08x", v.Name(), v.KeyHash(), testOrigin, k.verifier.KeyHash())
			}
		})
	}
}

func TestParseCheckpoint(t *testing.T) {
	logKey := newNoteKey(t, "log", testOrigin)
	impostor := newNoteKey(t, "impostor", testOrigin)
	root := bytes.Repeat([]byte{0xab}, 32)
	root64 := base64.StdEncoding.EncodeToString(root)
	body := func(size string) string { return testOrigin + "\n" + size + "\n" + root64 + "\n" }

	tests := []struct {
		name      string
		note      string
		wantCP    log.Checkpoint // for checkpoints that parse
		wantOther string         // their extension lines
		wantErr   string         // "" = parses
	}{
		{"valid", signNote(t, body("5"), logKey), log.Checkpoint{Origin: testOrigin, Size: 5, Hash: root}, "", ""},
		{"empty tree", signNote(t, body("0"), logKey), log.Checkpoint{Origin: testOrigin, Size: 0, Hash: root}, "", ""},
		{"largest size", signNote(t, body("18446744073709551615"), logKey), log.Checkpoint{Origin: testOrigin, Size: 1<<64 - 1, Hash: root}, "", ""},
		{"extension lines", signNote(t, body("5")+"ext one\next two\n", logKey), log.Checkpoint{Origin: testOrigin, Size: 5, Hash: root}, "ext one\next two\n", ""},
		{"cosigned by an unknown witness", signNote(t, body("5"), logKey, newNoteKey(t, "witness", "witness.example/w1")), log.Checkpoint{Origin: testOrigin, Size: 5, Hash: root}, "", ""},
		// Lenient, harmless (the note is signed by the trusted key; an inclusion proof
		// against a root of the wrong length fails, see TestTLogProof): C2SP
		// tlog-checkpoint forbids leading zeroes in the size and empty extension lines,
		// and the root hash of RFC 6962 has 32 bytes.
		{"size with a leading zero", signNote(t, body("05"), logKey), log.Checkpoint{Origin: testOrigin, Size: 5, Hash: root}, "", ""},
		{"empty extension line", signNote(t, body("5")+"\next\n", logKey), log.Checkpoint{Origin: testOrigin, Size: 5, Hash: root}, "\next\n", ""},
		{"root of 31 bytes", signNote(t, testOrigin+"\n5\n"+base64.StdEncoding.EncodeToString(root[:31])+"\n", logKey), log.Checkpoint{Origin: testOrigin, Size: 5, Hash: root[:31]}, "", ""},

		{"other origin", signNote(t, "log.example/other\n5\n"+root64+"\n", logKey), log.Checkpoint{}, "", `got Origin "log.example/other"`},
		{"origin with a trailing space", signNote(t, testOrigin+" \n5\n"+root64+"\n", logKey), log.Checkpoint{}, "", "got Origin"},
		{"empty origin", signNote(t, "\n5\n"+root64+"\n", logKey), log.Checkpoint{}, "", "empty origin"},
		{"signed by another key of the log's name", signNote(t, body("5"), impostor), log.Checkpoint{}, "", "no verifiable signatures"},
		{"unsigned", body("5"), log.Checkpoint{}, "", "malformed note"},
		{"size not a number", signNote(t, body("five"), logKey), log.Checkpoint{}, "", "size invalid"},
		{"negative size", signNote(t, body("-5"), logKey), log.Checkpoint{}, "", "size invalid"},
		{"size with a plus sign", signNote(t, body("+5"), logKey), log.Checkpoint{}, "", "size invalid"},
		{"size with a space", signNote(t, body(" 5"), logKey), log.Checkpoint{}, "", "size invalid"},
		{"size in hex", signNote(t, body("0x5"), logKey), log.Checkpoint{}, "", "size invalid"},
		{"empty size", signNote(t, body(""), logKey), log.Checkpoint{}, "", "size invalid"},
		{"size overflows uint64", signNote(t, body("18446744073709551616"), logKey), log.Checkpoint{}, "", "size invalid"},
		{"root not base64", signNote(t, testOrigin+"\n5\nnot base64!\n", logKey), log.Checkpoint{}, "", "invalid hash"},
		{"root without padding", signNote(t, testOrigin+"\n5\n"+strings.TrimRight(base64.StdEncoding.EncodeToString(root[:31]), "=")+"\n", logKey), log.Checkpoint{}, "", "invalid hash"},
		{"no root line", signNote(t, testOrigin+"\n5\n", logKey), log.Checkpoint{}, "", "too few newlines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp, other, _, err := log.ParseCheckpoint([]byte(tt.note), testOrigin, logKey.verifier)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want an error mentioning %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("got %v, want no error", err)
			default:
				if diff := cmp.Diff(tt.wantCP, *cp); diff != "" {
					t.Errorf("checkpoint (-want +got):\n%s", diff)
				}
				if string(other) != tt.wantOther {
					t.Errorf("got extension lines %q, want %q", other, tt.wantOther)
				}
			}
		})
	}
}
