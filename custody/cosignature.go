package custody

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), Ed25519 cosignature/v1,
// implemented here so the court's verifier needs no further dependency.
const (
	algEd25519            = 0x01
	algCosignatureV1      = 0x04
	cosignatureTimestamp  = 8
	cosignatureV1Preamble = "cosignature/v1\ntime "
)

var errWitnessKey = errors.New("malformed witness verifier key")

// cosignatureVerifier verifies Ed25519 cosignature/v1 signatures of one witness.
type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

// newCosignatureVerifier parses a witness verifier key "name+hash+base64(alg || key)"
// with alg 0x04 (cosignature/v1); an Ed25519 note key (0x01) is taken as the same key
// used for cosignature/v1, as C2SP allows.
func newCosignatureVerifier(vkey string) (note.Verifier, error) {
	name, rest, _ := strings.Cut(vkey, "+")
	hash16, key64, _ := strings.Cut(rest, "+")
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(hash16) != 8 || name == "" || len(key) != 1+ed25519.PublicKeySize ||
		(key[0] != algCosignatureV1 && key[0] != algEd25519) {
		return nil, errWitnessKey
	}
	if _, err := strconv.ParseUint(hash16, 16, 32); err != nil {
		return nil, errWitnessKey
	}
	pub := append([]byte{algCosignatureV1}, key[1:]...)
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(pub)
	return &cosignatureVerifier{name: name, hash: binary.BigEndian.Uint32(h.Sum(nil)), key: ed25519.PublicKey(key[1:])}, nil
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }

// Verify checks sig = timestamp (8 bytes, big endian) || Ed25519 signature over
// "cosignature/v1\ntime <timestamp>\n" || msg.
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != cosignatureTimestamp+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:cosignatureTimestamp])
	signed := make([]byte, 0, len(cosignatureV1Preamble)+24+len(msg))
	signed = append(signed, cosignatureV1Preamble...)
	signed = strconv.AppendUint(signed, t, 10)
	signed = append(signed, '\n')
	signed = append(signed, msg...)
	return ed25519.Verify(v.key, signed, sig[cosignatureTimestamp:])
}
