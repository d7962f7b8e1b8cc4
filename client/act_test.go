package client_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/pki"
)

// TestActSignerKeys: acts signed with RSA, ECDSA (P-256, P-384) and Ed25519 keys other
// than the client certificate's, certified by the agency's CA, verify as the gateway
// checks them.
func TestActSignerKeys(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.store([]byte("evidence"))
	g.grants = []api.GrantView{{GrantID: "gr-bbbbbbbbbbbbbbbb", State: api.GrantActive}}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	subject := pkix.Name{CommonName: "bob", Organization: []string{"agency-us"}, Country: []string{"US"}}
	for name, key := range map[string]crypto.Signer{"RSA 2048": rsaKey, "ECDSA P-256": p256, "ECDSA P-384": p384, "Ed25519": ed} {
		t.Run(name, func(t *testing.T) {
			s, err := signature.LoadSigner(key, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			certPEM, err := g.ca.IssueSigning(subject, key.Public(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			certs, err := pki.ParseCertificates(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			as, err := client.NewActSigner(s, certs)
			if err != nil {
				t.Fatal(err)
			}
			c.SetActSigner(as)
			before := len(g.acts)
			if _, err := c.AcceptGrant(t.Context(), testEvidenceID, "gr-bbbbbbbbbbbbbbbb"); err != nil {
				t.Fatalf("AcceptGrant signed with %s: %v", name, err)
			}
			if len(g.acts) != before+1 {
				t.Errorf("the gateway recorded %d acts, want %d", len(g.acts), before+1)
			}
		})
	}
}

// TestActSignerMismatch: a signer whose key is not the certificate's is refused before
// anything is sent.
func TestActSignerMismatch(t *testing.T) {
	g, _, _ := newFakeGateway(t)
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	certPEM, err := g.ca.IssueSigning(pkix.Name{CommonName: "bob"}, &k2.PublicKey, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certs, _ := pki.ParseCertificates(certPEM)
	s, _ := signature.LoadSigner(k1, crypto.SHA256)
	if _, err := client.NewActSigner(s, certs); err == nil || !strings.Contains(err.Error(), "not for the signing key") {
		t.Errorf("NewActSigner with another key's certificate: got %v, want a refusal", err)
	}
}

// TestDownloadSendsReceipt: a verified download is followed by the member's signed
// receipt naming the download event and the digest received.
func TestDownloadSendsReceipt(t *testing.T) {
	g, c, _ := newFakeGateway(t)
	g.store([]byte("evidence bytes"))
	res, err := c.Download(t.Context(), testEvidenceID, t.TempDir()+"/out", client.DownloadOptions{}, nil)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if res.Received == nil || res.Received.Action != "received" {
		t.Fatalf("Received: got %+v, want the received event", res.Received)
	}
	last := g.acts[len(g.acts)-1]
	if last.Predicate.Download != g.downloadEvent().Digest || last.SHA256() != g.sha256 || last.Predicate.Size != int64(len("evidence bytes")) {
		t.Errorf("the received act: %+v, want the download event, the content digest and size", last)
	}
}
