package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"go.yaml.in/yaml/v3"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/keys/vault"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/pki"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/s3"
)

// shiftedClock is a clock that a test moves ahead of the real one.
type shiftedClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *shiftedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.shift)
}

func (c *shiftedClock) set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shift = d
}

// stackVaultConfig is the Vault part of the stack's gateway configuration.
type stackVaultConfig struct {
	Backends struct {
		Keys struct {
			Address      string `yaml:"address"`
			TokenFile    string `yaml:"token_file"`
			TransitMount string `yaml:"transit_mount"`
		} `yaml:"keys"`
	} `yaml:"backends"`
}

// objectLockService is an exhibit.Service as the gateway wires it on the real stack:
// content and custody records in object-locked MinIO buckets (fresh ones, in GOVERNANCE
// mode so that the test can remove them; the store never bypasses it), data keys from
// Vault's transit engine, with the gateway's own MinIO credentials. Its clock is now;
// the test moves it.
type objectLockService struct {
	svc     *exhibit.Service
	clock   *shiftedClock
	vault   *vault.Manager
	admin   *minio.Client
	content string // the NL bucket
	custody string // the custody bucket
	// member is the owning agency's investigator, with a certificate of the agency's
	// CA: the key that signs the acts of the changes of custody it asks for.
	member exhibittest.Member
}

// owner is the investigator's principal carrying its signed act a about evidence id
// with content digest sha, signed at the service's clock.
func (ls *objectLockService) owner(t *testing.T, id, sha string, a custody.Act) exhibit.Principal {
	t.Helper()
	a.Time = ls.clock.Now()
	return exhibittest.SignedBy(t, ls.member, id, sha, a)
}

func newObjectLockService(t *testing.T, retention time.Duration) *objectLockService {
	t.Helper()
	raw, cfg := loadStackConfig(t)
	var vc stackVaultConfig
	if err := yaml.Unmarshal([]byte(raw), &vc); err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(vc.Backends.Keys.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "evidencegw.test/object-lock"
	vm, err := vault.New(t.Context(), vault.Config{Address: vc.Backends.Keys.Address, Token: strings.TrimSpace(string(token)),
		Mount: vc.Backends.Keys.TransitMount, KEKs: map[string]string{"NL": "evidence-nl"},
		EventKey: "custody-events", CheckpointKey: "custody-checkpoints", LogOrigin: origin})
	if err != nil {
		t.Fatal(err)
	}
	admin := minioClient(t, cfg)
	sc := cfg.Backends.Storage
	newBucket := func() (storage.Store, string) {
		b := make([]byte, 8)
		rand.Read(b)
		bucket := "evgw-test-" + hex.EncodeToString(b)
		t.Cleanup(func() { removeTestBucket(t, admin, bucket) })
		st, err := s3.New(t.Context(), s3.Config{Endpoint: sc.Endpoint, AccessKey: sc.AccessKey, SecretKey: sc.SecretKey, Secure: sc.Secure,
			Bucket: bucket, RetentionMode: s3.Governance, Retention: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return st, bucket
	}
	custodyStore, custodyBucket := newBucket()
	nl, nlBucket := newBucket()
	store := &storage.Router{Default: custodyStore, Jurisdictions: map[string]storage.Store{"NL": nl}, Place: exhibit.ContentJurisdiction}

	// Events are signed with local keys into an in-memory log: what this test is about
	// is the store and the data keys.
	local, err := keys.OpenLocal(filepath.Join(t.TempDir(), "keys"), origin)
	if err != nil {
		t.Fatal(err)
	}
	eventKeys, err := local.EventKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	clock := &shiftedClock{}
	trustRoot := func(context.Context) (*custody.TrustRoot, error) {
		tr := &custody.TrustRoot{MediaType: custody.TrustRootMediaType, EventKeys: eventKeys,
			Log: custody.TrustedLog{Origin: origin, VerifierKey: local.CheckpointVerifierKey()}, Witnesses: custody.Witnesses{Keys: []string{}}}
		b, err := tr.Marshal()
		if err != nil {
			return nil, err
		}
		return custody.ParseTrustRoot(b)
	}
	ca, err := pki.OpenAgencyDevCA(filepath.Join(t.TempDir(), "ca"), "agency-nl")
	if err != nil {
		t.Fatal(err)
	}
	member := issueMember(t, ca, exhibit.Principal{Agency: "agency-nl", Jurisdiction: "NL", Person: "investigator-nl", Role: exhibit.RoleInvestigator})
	svc, err := exhibit.New(exhibit.Config{Store: store, Keys: vm, Log: ledgertest.NewMemLog(local.CheckpointSigner()),
		Signer: ledger.Signer{SignerVerifier: local.EventSigner(), KeyID: eventKeys[0].KeyID}, Policy: pol,
		Agencies:  []exhibit.Agency{{ID: "agency-nl", Jurisdiction: "NL", CAs: []*x509.Certificate{ca.Cert()}}},
		Retention: exhibit.Retention{Default: retention},
		TrustRoot: trustRoot, Rotator: vm, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &objectLockService{svc: svc, clock: clock, vault: vm, admin: admin, content: nlBucket, custody: custodyBucket,
		member: member}
}

// issueMember issues p a client certificate of ca, for a day, and returns the member.
func issueMember(t *testing.T, ca *pki.CA, p exhibit.Principal) exhibittest.Member {
	t.Helper()
	certPEM, keyPEM, err := ca.IssueClient(pkix.Name{CommonName: p.Person, Organization: []string{p.Agency}, Country: []string{p.Jurisdiction}}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("the CA issued an identity that is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		k, err2 := x509.ParsePKCS8PrivateKey(kb.Bytes)
		ek, ok := k.(*ecdsa.PrivateKey)
		if err2 != nil || !ok {
			t.Fatalf("parsing the issued key: %v", err)
		}
		key = ek
	}
	p.Cert = cert
	return exhibittest.Member{Principal: p, Subject: cert.Subject.String(), Key: key}
}

// removeTestBucket removes a test bucket with every version, lifting legal holds and
// bypassing governance retention, as only a test may.
func removeTestBucket(t *testing.T, mc *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	off := minio.LegalHoldDisabled
	for obj := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if obj.Err != nil {
			t.Errorf("listing test bucket %s: %v", bucket, obj.Err)
			return
		}
		if !obj.IsDeleteMarker {
			mc.PutObjectLegalHold(ctx, bucket, obj.Key, minio.PutObjectLegalHoldOptions{VersionID: obj.VersionID, Status: &off})
		}
		if err := mc.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{VersionID: obj.VersionID, GovernanceBypass: true}); err != nil {
			t.Errorf("removing %s from test bucket %s: %v", obj.Key, bucket, err)
		}
	}
	if err := mc.RemoveBucket(ctx, bucket); err != nil {
		t.Errorf("removing test bucket %s: %v", bucket, err)
	}
}

// readVersions reads every version of the objects under prefix in bucket.
func readVersions(t *testing.T, mc *minio.Client, bucket, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for obj := range mc.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Prefix: prefix, WithVersions: true, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if obj.IsDeleteMarker {
			out[obj.Key+"@"+obj.VersionID+" (delete marker)"] = nil
			continue
		}
		o, err := mc.GetObject(t.Context(), bucket, obj.Key, minio.GetObjectOptions{VersionID: obj.VersionID})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[obj.Key+"@"+obj.VersionID] = b
	}
	return out
}

// TestRealStackObjectLockKeepsTheGatewayFromDisposingEarly runs the disposal of the
// gateway's own use case against MinIO and Vault with the gateway's clock an hour
// ahead: the gateway's checks pass and it records the disposal, but MinIO, by its own
// clock, refuses to destroy anything within the retention, with the gateway's own
// credentials. Once the retention has really ended, the disposal finishes: every
// version of the content and of the data key (two: a key rotation rewrapped it) is
// gone from MinIO, and no object left in either bucket unwraps in Vault as the data key
// of a copy of the ciphertext saved before.
func TestRealStackObjectLockKeepsTheGatewayFromDisposingEarly(t *testing.T) {
	const retention = 6 * time.Second
	ls := newObjectLockService(t, retention)
	ctx := t.Context()
	content := bytes.Repeat([]byte("seized phone image "), 1<<15)
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])
	res, err := ls.svc.Register(ctx, ls.owner(t, "", sha, custody.Act{Action: custody.ActionRegister, CaseID: "CASE-LOCK"}),
		exhibit.Upload{CaseID: "CASE-LOCK", SHA256: sum[:], Content: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Evidence.EvidenceID
	if _, err := ls.svc.RotateKeys(ctx, "NL", custody.Party{Agency: "operator", Jurisdiction: "NL"}); err != nil {
		t.Fatal(err)
	}
	prefix := "content/NL/" + id + "/"
	before := readVersions(t, ls.admin, ls.content, prefix)
	var sealedCopy []byte
	var wrapped [][]byte
	for k, b := range before {
		if strings.Contains(k, "/sealed@") {
			sealedCopy = b
		} else {
			wrapped = append(wrapped, b)
		}
	}
	if sealedCopy == nil || len(wrapped) != 2 {
		t.Fatalf("MinIO holds %d objects of %s, want the content and two data-key versions", len(before), id)
	}

	// An hour ahead, the gateway thinks the retention over; MinIO does not.
	ls.clock.set(time.Hour)
	dispose := custody.Act{Action: custody.ActionDispose, Authority: "retention schedule"}
	_, err = ls.svc.Dispose(ctx, ls.owner(t, id, sha, dispose), id, "retention schedule")
	var unfinished *exhibit.DisposalUnfinishedError
	if !errors.As(err, &unfinished) || !errors.Is(err, storage.ErrRetained) {
		t.Fatalf("disposal with the gateway's clock ahead: got %v, want it recorded and refused by MinIO (ErrRetained)", err)
	}
	if after := readVersions(t, ls.admin, ls.content, prefix); len(after) != len(before) {
		t.Errorf("MinIO let the gateway destroy within the retention: %d objects left of %d", len(after), len(before))
	}
	for k, b := range readVersions(t, ls.admin, ls.content, prefix) {
		if !bytes.Equal(b, before[k]) {
			t.Errorf("%s changed after the refused disposal", k)
		}
	}
	if _, err := ls.svc.Download(ctx, ls.member.Principal, id, exhibit.DownloadRequest{}); err == nil {
		t.Error("the content of a recorded disposal is still served")
	}

	// Once MinIO's clock passes the retention, the disposal finishes.
	ls.clock.set(0)
	time.Sleep(time.Until(res.Evidence.RegisteredAt.Add(retention)) + 2*time.Second)
	done, err := ls.svc.Dispose(ctx, ls.owner(t, id, sha, dispose), id, "retention schedule")
	if err != nil {
		t.Fatalf("disposal after the retention: %v", err)
	}
	if done.Custody.Seq != unfinished.Seq || !done.ContentDestroyed || done.DataKeysDestroyed != 2 {
		t.Errorf("finished disposal = %+v, want event %d, the content and both data keys destroyed", done, unfinished.Seq)
	}
	if left := readVersions(t, ls.admin, ls.content, prefix); len(left) != 0 {
		t.Errorf("after the disposal MinIO still holds %d versions or delete markers of %s", len(left), id)
	}

	// Crypto-shredding with Vault: no object left in the exhibit's buckets unwraps as its
	// data key (the KEK is still there), and so none opens the saved ciphertext copy.
	remaining := readVersions(t, ls.admin, ls.content, "")
	for k, b := range readVersions(t, ls.admin, ls.custody, "") {
		remaining[k] = b
	}
	if len(remaining) == 0 {
		t.Fatal("no object left to try: the custody records should remain")
	}
	tried := 0
	for k, b := range remaining {
		for _, candidate := range wrappedCandidates(b) {
			tried++
			if _, err := ls.vault.UnwrapDataKey(ctx, "vault:transit/evidence-nl", candidate, []byte(id)); !errors.Is(err, keys.ErrUnwrap) {
				t.Errorf("remaining object %s as the wrapped data key: got %v, want a refusal", k, err)
			}
		}
	}
	// The check can fail: the data-key records saved before the disposal still unwrap,
	// since the KEK is not destroyed. (So a copy of a data-key record made outside the
	// store defeats the shredding: docs/keys.md, "Disposal", says what that asks of
	// backups.)
	for _, w := range wrapped {
		for _, candidate := range wrappedCandidates(w)[1:] {
			if _, err := ls.vault.UnwrapDataKey(ctx, "vault:transit/evidence-nl", candidate, []byte(id)); err != nil {
				t.Errorf("a saved copy of a data-key record does not unwrap (%v): the check above proves nothing", err)
			}
		}
	}
	t.Logf("tried %d candidates from %d objects left in the buckets", tried, len(remaining))
}

// wrappedCandidates returns what an object could offer as a wrapped data key: its bytes,
// and, if it is a data-key record, the wrapped key it holds.
func wrappedCandidates(b []byte) [][]byte {
	out := [][]byte{b}
	var rec struct {
		Wrapped []byte `json:"wrapped"`
	}
	if json.Unmarshal(b, &rec) == nil && len(rec.Wrapped) > 0 {
		out = append(out, rec.Wrapped)
	}
	return out
}
