package e2e

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"go.yaml.in/yaml/v3"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/pki"
)

// Members sign their own acts: with the identity's key by default, with other keys
// (RSA and ECDSA files, a Vault Transit key, a SoftHSM token) certified by their
// agency's development CA; forged acts are refused by the gateway and a court sees who
// signed what.

// investigatorSubject is the demo investigator's certificate subject.
var investigatorSubject = pkix.Name{CommonName: "investigator-nl", Organization: []string{"agency-nl"}, Country: []string{"NL"}}

// agencyCA opens the development CA the gateway created for an agency.
func (g *gateway) agencyCA(t *testing.T, agency string) *pki.CA {
	t.Helper()
	ca, err := pki.OpenAgencyDevCA(filepath.Join(g.data, "agency-ca", agency), agency)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// runWith runs a client command of binary bin as who, with env added.
func (g *gateway) runWith(bin string, env []string, who string, args ...string) (string, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "EVIDENCEGW_IDENTITY="+g.identity(who)), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// writePEM writes a PEM file of the given blocks and returns its path.
func writePEM(t *testing.T, name string, blocks ...*pem.Block) string {
	t.Helper()
	var b []byte
	for _, bl := range blocks {
		b = append(b, pem.EncodeToMemory(bl)...)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyFiles writes key as a PKCS #8 PEM file and the certificate ca issues for it to
// subject, and returns both paths.
func keyFiles(t *testing.T, ca *pki.CA, subject pkix.Name, key crypto.Signer) (keyPath, certPath string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := ca.IssueSigning(subject, key.Public(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyPath = writePEM(t, "key.pem", &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	certPath = filepath.Join(filepath.Dir(keyPath), "cert.pem")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath
}

// bundleActCerts exports the bundle of id as the owner and returns, by sequence number,
// the DER certificate each event's act was signed with.
func (g *gateway) bundleActCerts(t *testing.T, id string) (map[uint64][]byte, string) {
	t.Helper()
	dir := t.TempDir()
	bundle, trust := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "trust-root.json")
	g.must("investigator-nl", "bundle", id, "-o", bundle)
	g.must("investigator-nl", "trust-root", "-o", trust)
	report := g.must("", "verify", bundle, "--trust-root", trust)
	raw, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	b, err := custody.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64][]byte{}
	for _, e := range b.Events {
		p, _ := e.Envelope.PayloadBytes()
		st, err := custody.ParseStatement(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Predicate.Act != nil {
			out[st.Predicate.Seq] = st.Predicate.Act.Certificates[0]
		}
	}
	return out, report
}

// TestActKeys: the investigator registers with an RSA key file and shares with an ECDSA
// P-384 key file, each certified by agency-nl's CA; the partner accepts and downloads
// with its identity's key and its receipt is recorded; the court's verifier checks every
// actor's signature. Acts signed with a certificate of another agency's CA, an expired
// certificate, or another member's certificate are refused by the gateway.
func TestActKeys(t *testing.T) {
	g := startGateway(t, "")
	nlCA := g.agencyCA(t, "agency-nl")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaPath, rsaCert := keyFiles(t, nlCA, investigatorSubject, rsaKey)
	ecPath, ecCert := keyFiles(t, nlCA, investigatorSubject, p384)

	file, _ := writeRandomFile(t, 100<<10)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-ACT-1", "--key", rsaPath, "--key-cert", rsaCert, "--json", file), "evidence_id")
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/5", "--expires", "30d",
		"--key", ecPath, "--key-cert", ecCert)
	g.must("partner-us", "accept", id)
	out := g.must("partner-us", "download", id, "-o", filepath.Join(t.TempDir(), "got.bin"), "--json")
	if !strings.Contains(out, `"received": {`) || !strings.Contains(out, `"action": "received"`) {
		t.Errorf("download --json shows no received event:\n%s", out)
	}
	hist := g.must("investigator-nl", "history", id)
	if !strings.Contains(hist, "received (event") || !strings.Contains(hist, "CN=partner-us,O=agency-us,C=US") {
		t.Errorf("history does not show the partner's signed receipt:\n%s", hist)
	}

	certs, report := g.bundleActCerts(t, id)
	for seq, want := range map[uint64][]byte{0: pemDER(t, rsaCert), 1: pemDER(t, ecCert)} {
		if !bytes.Equal(certs[seq], want) {
			t.Errorf("event %d: the act's certificate is not the key file's", seq)
		}
	}
	if len(certs) != 4 { // register, share, accept, received
		t.Errorf("%d events carry an act, want 4", len(certs))
	}
	for _, w := range []string{"signed by CN=investigator-nl,O=agency-nl,C=NL", "signed by CN=partner-us,O=agency-us,C=US", "received"} {
		if !strings.Contains(report, w) {
			t.Errorf("verify report lacks %q:\n%s", w, report)
		}
	}

	// Forged acts.
	usCA := g.agencyCA(t, "agency-us")
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreignKey, foreignCert := keyFiles(t, usCA, investigatorSubject, other)
	colleagueKey, colleagueCert := keyFiles(t, nlCA, pkix.Name{CommonName: "colleague", Organization: []string{"agency-nl"}, Country: []string{"NL"}}, other)
	expiredCertPEM, expiredKeyPEM, err := nlCA.IssueClientWindow(investigatorSubject, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expiredKey := filepath.Join(t.TempDir(), "expired-key.pem")
	os.WriteFile(expiredKey, expiredKeyPEM, 0o600)
	expiredCert := filepath.Join(filepath.Dir(expiredKey), "expired-cert.pem")
	os.WriteFile(expiredCert, expiredCertPEM, 0o600)
	for _, tt := range []struct{ name, key, cert, want string }{
		{"another agency's CA", foreignKey, foreignCert, "does not chain to the agency's CA"},
		{"expired certificate", expiredKey, expiredCert, "does not chain to the agency's CA"},
		{"another member's certificate", colleagueKey, colleagueCert, "you are authenticated as"},
		{"a key that is not the certificate's", foreignKey, rsaCert, "is not for the signing key"},
	} {
		_, errOut, err := g.run("investigator-nl", "hold", id, "--reason", "x", "--key", tt.key, "--key-cert", tt.cert)
		if err == nil || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: got %v, %s; want a refusal saying %q", tt.name, err, errOut, tt.want)
		}
	}
	if h := g.must("investigator-nl", "history", id); strings.Contains(h, "legal-hold") {
		t.Errorf("a refused hold was recorded:\n%s", h)
	}
}

func pemDER(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	return block.Bytes
}

// stackVault reads the Vault address and token of the real stack's configuration.
func stackVault(t *testing.T) (addr, token, mount string) {
	t.Helper()
	raw, _ := loadStackConfig(t)
	var c struct {
		Backends struct {
			Keys struct {
				Address   string `yaml:"address"`
				TokenFile string `yaml:"token_file"`
				Mount     string `yaml:"transit_mount"`
			} `yaml:"keys"`
		} `yaml:"backends"`
	}
	if err := yaml.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	k := c.Backends.Keys
	tok, err := os.ReadFile(k.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if k.Mount == "" {
		k.Mount = "transit"
	}
	return k.Address, strings.TrimSpace(string(tok)), k.Mount
}

// TestRealStackVaultActKey: acts signed through sigstore's hashivault provider with
// Vault Transit keys (ECDSA P-256 and RSA 2048) of the real stack's Vault, certified by
// agency-nl's CA, are accepted by the gateway and verified by the court.
func TestRealStackVaultActKey(t *testing.T) {
	addr, token, mount := stackVault(t)
	g := startGateway(t, "")
	nlCA := g.agencyCA(t, "agency-nl")
	vc, err := vault.NewClient(&vault.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(token)
	env := []string{"VAULT_ADDR=" + addr, "VAULT_TOKEN=" + token, "TRANSIT_SECRET_ENGINE_PATH=" + mount}
	for _, keyType := range []string{"ecdsa-p256", "rsa-2048"} {
		t.Run(keyType, func(t *testing.T) {
			name := fmt.Sprintf("e2e-act-%s-%d", keyType, time.Now().UnixNano())
			if _, err := vc.Logical().WriteWithContext(t.Context(), mount+"/keys/"+name, map[string]any{"type": keyType}); err != nil {
				t.Fatalf("creating transit key %s: %v", name, err)
			}
			hv, err := hashivault.LoadSignerVerifier("hashivault://"+name, crypto.SHA256,
				options.WithRPCAuthOpts(options.RPCAuth{Address: addr, Token: token, Path: mount}))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := hv.PublicKey(options.WithContext(t.Context()))
			if err != nil {
				t.Fatal(err)
			}
			certPEM, err := nlCA.IssueSigning(investigatorSubject, pub, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			certPath := filepath.Join(t.TempDir(), "vault-cert.pem")
			os.WriteFile(certPath, certPEM, 0o600)
			file, _ := writeRandomFile(t, 10<<10)
			out, errOut, err := g.runWith(binary(t), env, "investigator-nl", "upload", "--case", "CASE-VAULT", "--json",
				"--key", "hashivault://"+name, "--key-cert", certPath, file)
			if err != nil {
				t.Fatalf("upload signed with hashivault://%s: %v\n%s", name, err, errOut)
			}
			id := jsonField(t, out, "evidence_id")
			certs, report := g.bundleActCerts(t, id)
			if !bytes.Equal(certs[0], pemDER(t, certPath)) || !strings.Contains(report, "signed by CN=investigator-nl") {
				t.Errorf("the register event does not carry the Vault key's signed act:\n%s", report)
			}
		})
	}
}

var (
	p11Once sync.Once
	p11Bin  string
	p11Err  error
)

// pkcs11Binary builds cmd/evidencegw with cgo and -tags pkcs11key, once.
func pkcs11Binary(t *testing.T) string {
	t.Helper()
	p11Once.Do(func() {
		dir, err := os.MkdirTemp("", "evidencegw-e2e-p11")
		if err != nil {
			p11Err = err
			return
		}
		p11Bin = filepath.Join(dir, "evidencegw")
		cmd := exec.Command("go", "build", "-tags", "pkcs11key", "-o", p11Bin, "../cmd/evidencegw")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			p11Err = fmt.Errorf("go build -tags pkcs11key: %v\n%s", err, out)
		}
	})
	if p11Err != nil {
		t.Fatal(p11Err)
	}
	return p11Bin
}

// softHSMModule is where Debian's softhsm2 package installs its PKCS #11 module.
const softHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// TestPKCS11ActKey: an act signed with a key on a SoftHSM token, through sigstore's
// PKCS #11 provider (a build with -tags pkcs11key), is accepted and verified; the
// token's PIN never appears in an error.
func TestPKCS11ActKey(t *testing.T) {
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("softhsm2-util not found: scripts/test installs Debian's softhsm2")
		}
		t.Skip("softhsm2-util not found: apt-get install softhsm2")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\n"), 0o600)
	hsmEnv := []string{"SOFTHSM2_CONF=" + conf}
	hsm := func(args ...string) {
		t.Helper()
		cmd := exec.Command("softhsm2-util", args...)
		cmd.Env = append(os.Environ(), hsmEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	hsm("--init-token", "--free", "--label", "evgw-card", "--pin", "1234", "--so-pin", "5678")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	g := startGateway(t, "")
	keyPath, certPath := keyFiles(t, g.agencyCA(t, "agency-nl"), investigatorSubject, key)
	hsm("--import", keyPath, "--token", "evgw-card", "--label", "investigator", "--id", "01", "--pin", "1234")

	bin := pkcs11Binary(t)
	uri := "pkcs11:token=evgw-card;object=investigator?module-path=" + softHSMModule + "&pin-value=1234"
	file, _ := writeRandomFile(t, 10<<10)
	out, errOut, err := g.runWith(bin, hsmEnv, "investigator-nl", "upload", "--case", "CASE-HSM", "--json", "--key", uri, "--key-cert", certPath, file)
	if err != nil {
		t.Fatalf("upload signed on the token: %v\n%s", err, errOut)
	}
	id := jsonField(t, out, "evidence_id")
	certs, report := g.bundleActCerts(t, id)
	if !bytes.Equal(certs[0], pemDER(t, certPath)) || !strings.Contains(report, "signed by CN=investigator-nl") {
		t.Errorf("the register event does not carry the token key's signed act:\n%s", report)
	}
	// A wrong PIN fails, and the message does not show the PIN given.
	bad := strings.Replace(uri, "pin-value=1234", "pin-value=9999", 1)
	_, errOut, err = g.runWith(bin, hsmEnv, "investigator-nl", "hold", id, "--key", bad, "--key-cert", certPath)
	if err == nil || strings.Contains(errOut, "9999") {
		t.Errorf("a wrong PIN: got %v, %s; want a failure that does not show the PIN", err, errOut)
	}
	// The default build refuses pkcs11: keys, saying how to build one that signs with them.
	_, errOut, err = g.run("investigator-nl", "hold", id, "--key", uri, "--key-cert", certPath)
	if err == nil || !strings.Contains(errOut, "-tags pkcs11key") || strings.Contains(errOut, "1234") {
		t.Errorf("a pkcs11: key in the default build: got %v, %s", err, errOut)
	}
}
