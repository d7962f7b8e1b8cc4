package e2e

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/pki"
)

// writeIdentity writes an identity issued by issuer into a new directory, trusting the
// gateway's CA.
func (g *gateway) writeIdentity(t *testing.T, name string, cert, key []byte) {
	t.Helper()
	good, err := pki.LoadIdentity(g.identity("investigator-nl"))
	if err != nil {
		t.Fatal(err)
	}
	id := pki.Identity{CertPEM: cert, KeyPEM: key, CAPEM: good.CAPEM, GatewayURL: good.GatewayURL}
	if err := pki.WriteIdentity(g.identity(name), id); err != nil {
		t.Fatal(err)
	}
}

// notAfter returns the expiry of a PEM certificate as the gateway names it.
func notAfter(t *testing.T, certPEM []byte) string {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.NotAfter.UTC().Format(time.RFC3339)
}

func TestRefusedIdentities(t *testing.T) {
	g := startGateway(t, "")
	devCA, err := pki.OpenDevCA(filepath.Join(g.data, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	foreignCA, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nl := pkix.Name{CommonName: "investigator-nl", Organization: []string{"agency-nl"}, Country: []string{"NL"}}

	c, k, err := foreignCA.IssueClient(nl, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	g.writeIdentity(t, "foreign", c, k)
	g.fails("foreign", exitFailed, "gateway: Unauthorized: client certificate refused: not issued by a CA this gateway trusts (HTTP 401)", "whoami")

	c, k, err = devCA.IssueClientWindow(nl, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	g.writeIdentity(t, "expired", c, k)
	g.fails("expired", exitFailed, "gateway: Unauthorized: client certificate refused: expired at "+notAfter(t, c)+" (HTTP 401)", "whoami")

	c, k, err = devCA.IssueClient(pkix.Name{CommonName: "mallory", Organization: []string{"agency-nl"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	g.writeIdentity(t, "unmapped", c, k)
	g.fails("unmapped", exitFailed, "gateway: Unauthorized: the client certificate is not mapped to a member of any agency (HTTP 401)", "whoami")
}

func TestExpiredGrant(t *testing.T) {
	g := startGateway(t, "")
	file, _ := writeRandomFile(t, 1024)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-E", "--json", file), "evidence_id")
	expires := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "EPOC 2026/9", "--expires", expires)
	g.must("partner-us", "accept", id)
	time.Sleep(4 * time.Second)
	g.fails("partner-us", exitFailed, "gateway: Forbidden: view is not permitted by policy forbid-expired-grant (HTTP 403)", "download", id, "-o", filepath.Join(t.TempDir(), "late.bin"))
}
