package keys

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
)

// Files of a local key directory, each mode 0600 in a directory of mode 0700.
const (
	// KEKFile holds the key-encryption key: 32 raw random bytes, an AES-256-GCM key.
	KEKFile = "kek.key"
	// EventKeyFile holds the custody event signing key: an ECDSA P-256 private key,
	// PKCS#8, PEM type "PRIVATE KEY", with a "Valid-From" header (RFC 3339): when the
	// key was made, the start of the period in which it may sign.
	EventKeyFile = "event-signing.pem"
	// CheckpointKeyFile holds the log checkpoint signer key in the
	// golang.org/x/mod/sumdb/note signer key format ("PRIVATE+KEY+origin+hash+key"),
	// Ed25519, followed by a newline.
	CheckpointKeyFile = "checkpoint.key"
)

// LocalKEKRef is the KeyRef of data keys wrapped by the local key-encryption key.
const LocalKEKRef = "local:kek-v1"

const (
	kekSize        = 32 // AES-256
	dataKeySize    = 32
	wrapNonceSize  = 12 // AES-GCM standard nonce
	wrapTagSize    = 16
	keyFileMode    = 0o600
	keyDirMode     = 0o700
	localWrapLabel = "unwrapping data key"
)

// Local keeps the gateway's keys in files of one directory: the embedded default.
// It implements DataKeys with one key-encryption key for every jurisdiction.
//
// A Local is immutable once opened and safe for concurrent use.
type Local struct {
	dir            string
	kek            cipher.AEAD
	eventSigner    *signature.ECDSASignerVerifier
	eventPublic    crypto.PublicKey
	eventValidFrom time.Time
	checkpoint     note.Signer
	checkpointVKey string
}

var _ DataKeys = (*Local)(nil)

// OpenLocal loads the keys in dir, or creates them on first use (dir mode 0700, files
// mode 0600). logOrigin is the transparency log's origin line, the name of the
// checkpoint key: an existing checkpoint key for another origin is an error.
//
// Keys are created only when none of the three files exists: a directory holding
// some of them is an error, so a lost key is never silently replaced. Key files that
// group or others may access are refused.
func OpenLocal(dir, logOrigin string) (*Local, error) {
	if !validOrigin(logOrigin) {
		return nil, fmt.Errorf("opening local keys in %s: log origin %q is empty or has spaces or '+'", dir, logOrigin)
	}
	if err := os.MkdirAll(dir, keyDirMode); err != nil {
		return nil, fmt.Errorf("opening local keys in %s: %w", dir, err)
	}
	if err := createMissing(dir, logOrigin); err != nil {
		return nil, fmt.Errorf("opening local keys in %s: %w", dir, err)
	}
	l, err := loadLocal(dir, logOrigin)
	if err != nil {
		return nil, fmt.Errorf("opening local keys in %s: %w", dir, err)
	}
	return l, nil
}

func validOrigin(origin string) bool {
	return origin != "" && !strings.Contains(origin, "+") && strings.IndexFunc(origin, unicode.IsSpace) < 0
}

// createMissing generates the three key files if none exists. Each file is
// published write-once, so processes racing to create the same directory end up
// loading the same keys.
func createMissing(dir, logOrigin string) error {
	files := []string{KEKFile, EventKeyFile, CheckpointKeyFile}
	var missing []string
	for _, f := range files {
		_, err := os.Lstat(filepath.Join(dir, f))
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, f)
		} else if err != nil {
			return err
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case len(files):
	default:
		return fmt.Errorf("key directory is incomplete, %s missing: refusing to generate replacement keys "+
			"(restore them from backup, or empty the directory if it was never used)", strings.Join(missing, ", "))
	}
	gens := []func() ([]byte, error){generateKEK, generateEventKey, func() ([]byte, error) { return generateCheckpointKey(logOrigin) }}
	for i, f := range files {
		data, err := gens[i]()
		if err != nil {
			return fmt.Errorf("generating %s: %w", f, err)
		}
		err = writeOnce(dir, f, data)
		clear(data)
		if err != nil {
			return fmt.Errorf("writing %s: %w", f, err)
		}
	}
	return nil
}

func generateKEK() ([]byte, error) {
	k := make([]byte, kekSize)
	_, err := rand.Read(k)
	return k, err
}

func generateEventKey() ([]byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	headers := map[string]string{validFromHeader: time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: headers, Bytes: der}), nil
}

// validFromHeader is the PEM header of the event key that says when it was made.
const validFromHeader = "Valid-From"

// clockSlack widens a key's validity backwards, for clocks stepped after it was made.
const clockSlack = time.Minute

func generateCheckpointKey(origin string) ([]byte, error) {
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, err
	}
	return []byte(skey + "\n"), nil
}

// writeOnce publishes data as dir/name with mode 0600 through a synced temporary file
// and link(2). If the name already exists (another process won), it leaves it alone.
func writeOnce(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, ".tmp-"+name+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(keyFileMode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func loadLocal(dir, logOrigin string) (*Local, error) {
	l := &Local{dir: dir}
	if err := l.loadKEK(); err != nil {
		return nil, fmt.Errorf("loading %s: %w", KEKFile, err)
	}
	if err := l.loadEventKey(); err != nil {
		return nil, fmt.Errorf("loading %s: %w", EventKeyFile, err)
	}
	if err := l.loadCheckpointKey(logOrigin); err != nil {
		return nil, fmt.Errorf("loading %s: %w", CheckpointKeyFile, err)
	}
	return l, nil
}

// readKeyFile reads dir/name, refusing a file that group or others may access.
func (l *Local) readKeyFile(name string) ([]byte, error) {
	p := filepath.Join(l.dir, name)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %#o, want %#o (readable by its owner only)", p, perm, keyFileMode)
	}
	return os.ReadFile(p)
}

func (l *Local) loadKEK() error {
	k, err := l.readKeyFile(KEKFile)
	if err != nil {
		return err
	}
	defer clear(k)
	if len(k) != kekSize {
		return fmt.Errorf("key is %d bytes, want %d", len(k), kekSize)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return err
	}
	l.kek, err = cipher.NewGCM(block)
	return err
}

func (l *Local) loadEventKey() error {
	data, err := l.readKeyFile(EventKeyFile)
	if err != nil {
		return err
	}
	defer clear(data)
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return errors.New("no PEM block of type PRIVATE KEY")
	}
	defer clear(block.Bytes)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return fmt.Errorf("key is a %T, want an ECDSA P-256 key", key)
	}
	l.eventSigner, err = signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return err
	}
	l.eventPublic = priv.Public()
	return l.loadValidFrom(block)
}

// loadValidFrom reads when the event key was made: its Valid-From header, or, for key
// directories written before the header existed, the key file's modification time.
func (l *Local) loadValidFrom(block *pem.Block) error {
	if v, ok := block.Headers[validFromHeader]; ok {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("%s header: %w", validFromHeader, err)
		}
		l.eventValidFrom = t
		return nil
	}
	fi, err := os.Stat(filepath.Join(l.dir, EventKeyFile))
	if err != nil {
		return err
	}
	l.eventValidFrom = fi.ModTime().UTC().Truncate(time.Second)
	return nil
}

func (l *Local) loadCheckpointKey(logOrigin string) error {
	data, err := l.readKeyFile(CheckpointKeyFile)
	if err != nil {
		return err
	}
	defer clear(data)
	skey := strings.TrimSuffix(string(data), "\n")
	signer, err := note.NewSigner(skey)
	if err != nil {
		return fmt.Errorf("parsing signer key: %w", err)
	}
	if signer.Name() != logOrigin {
		return fmt.Errorf("key is for log origin %q, not %q", signer.Name(), logOrigin)
	}
	vkey, err := verifierKey(signer.Name(), skey)
	if err != nil {
		return err
	}
	l.checkpoint, l.checkpointVKey = signer, vkey
	return nil
}

// verifierKey derives the note verifier key from a signer key already accepted by
// note.NewSigner, "PRIVATE+KEY+name+hash+key" where key (which may itself contain
// '+') is base64(0x01 || Ed25519 seed).
func verifierKey(name, skey string) (string, error) {
	fields := strings.SplitN(skey, "+", 5)
	if len(fields) != 5 {
		return "", errors.New("signer key is not in the note format")
	}
	raw, err := base64.StdEncoding.DecodeString(fields[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("signer key is not an Ed25519 note key")
	}
	defer clear(raw)
	priv := ed25519.NewKeyFromSeed(raw[1:])
	defer clear(priv)
	return note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
}

// NewDataKey implements DataKeys. Every jurisdiction shares the one local
// key-encryption key. Wrapped is a 12-byte random nonce followed by the AES-256-GCM
// sealing of the key with aad as additional data.
func (l *Local) NewDataKey(ctx context.Context, jurisdiction string, aad []byte) (DataKey, error) {
	if err := ctx.Err(); err != nil {
		return DataKey{}, fmt.Errorf("generating data key for jurisdiction %q: %w", jurisdiction, err)
	}
	buf := make([]byte, wrapNonceSize+dataKeySize)
	if _, err := rand.Read(buf); err != nil {
		return DataKey{}, fmt.Errorf("generating data key for jurisdiction %q: %w", jurisdiction, err)
	}
	nonce, key := buf[:wrapNonceSize], buf[wrapNonceSize:]
	wrapped := l.kek.Seal(append([]byte(nil), nonce...), nonce, key, aad)
	return DataKey{Plaintext: key, Wrapped: wrapped, KeyRef: LocalKEKRef}, nil
}

// UnwrapDataKey implements DataKeys.
func (l *Local) UnwrapDataKey(ctx context.Context, keyRef string, wrapped, aad []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s under %s: %w", localWrapLabel, keyRef, err)
	}
	if keyRef != LocalKEKRef {
		return nil, fmt.Errorf("%s: key reference %q is not the local key %q: %w", localWrapLabel, keyRef, LocalKEKRef, ErrUnwrap)
	}
	if len(wrapped) != wrapNonceSize+dataKeySize+wrapTagSize {
		return nil, fmt.Errorf("%s under %s: wrapped key is %d bytes, want %d: %w",
			localWrapLabel, keyRef, len(wrapped), wrapNonceSize+dataKeySize+wrapTagSize, ErrUnwrap)
	}
	key, err := l.kek.Open(nil, wrapped[:wrapNonceSize], wrapped[wrapNonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("%s under %s: authentication failed (wrong aad, or wrapped key altered): %w", localWrapLabel, keyRef, ErrUnwrap)
	}
	return key, nil
}

// EventSigner returns the custody event signer (ECDSA P-256, SHA-256).
func (l *Local) EventSigner() signature.SignerVerifier { return l.eventSigner }

// EventPublicKey returns the public key of EventSigner, an *ecdsa.PublicKey.
func (l *Local) EventPublicKey() crypto.PublicKey { return l.eventPublic }

// EventKeys describes the event key for a trust root: its public key, valid from when it
// was made (a minute earlier, for clock steps). A local key never rotates, so there is
// exactly one.
func (l *Local) EventKeys(context.Context) ([]custody.TrustedKey, error) {
	tk, err := custody.NewTrustedKey(l.eventPublic, l.eventValidFrom.Add(-clockSlack))
	if err != nil {
		return nil, fmt.Errorf("describing the local event key: %w", err)
	}
	return []custody.TrustedKey{tk}, nil
}

// CheckpointSigner returns the Ed25519 note signer for log checkpoints; its Name is
// the log origin.
func (l *Local) CheckpointSigner() note.Signer { return l.checkpoint }

// CheckpointVerifierKey returns the note verifier key of CheckpointSigner,
// "origin+hash+base64key", the form note.NewVerifier accepts.
func (l *Local) CheckpointVerifierKey() string { return l.checkpointVKey }

// LogValue names the key directory and public identifiers only, never key material.
func (l *Local) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("dir", l.dir),
		slog.String("kek_ref", LocalKEKRef),
		slog.String("checkpoint_verifier_key", l.checkpointVKey),
	)
}
