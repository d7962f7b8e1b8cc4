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
	// agency-nl's own CA, which the gateway created; and another CA of the same name
	// (a TLS client sends only a certificate whose issuer the server names as
	// acceptable: one of another name would not even be presented).
	devCA, err := pki.OpenAgencyDevCA(filepath.Join(g.data, "agency-ca", "agency-nl"), "agency-nl")
	if err != nil {
		t.Fatal(err)
	}
	foreignCA, err := pki.OpenAgencyDevCA(t.TempDir(), "agency-nl")
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

// TestIdentityOfAnotherAgencysCA: a certificate naming agency-nl's investigator, issued
// by agency-us's CA (which the gateway trusts for agency-us's members), is refused.
func TestIdentityOfAnotherAgencysCA(t *testing.T) {
	g := startGateway(t, "")
	usCA, err := pki.OpenAgencyDevCA(filepath.Join(g.data, "agency-ca", "agency-us"), "agency-us")
	if err != nil {
		t.Fatal(err)
	}
	nl := pkix.Name{CommonName: "investigator-nl", Organization: []string{"agency-nl"}, Country: []string{"NL"}}
	c, k, err := usCA.IssueClient(nl, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	g.writeIdentity(t, "impostor", c, k)
	g.fails("impostor", exitFailed, "gateway: Unauthorized: the client certificate is not mapped to a member of any agency (HTTP 401)", "whoami")
}
