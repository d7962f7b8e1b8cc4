package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/pki"
)

func TestIdentify(t *testing.T) {
	ca, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuthenticator([]Agency{{ID: "agency-nl", Jurisdiction: "NL", ClientCAs: []*x509.Certificate{ca.Cert()},
		Members: []Member{{Subject: "CN=investigator-nl,O=agency-nl,C=NL", Person: "investigator-nl", Role: exhibit.RoleInvestigator}}}})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(issuer *pki.CA, subject pkix.Name) *tls.ConnectionState {
		c, _, err := issuer.IssueClient(subject, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(c)
		cert, _ := x509.ParseCertificate(block.Bytes)
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	}
	nl := pkix.Name{CommonName: "investigator-nl", Organization: []string{"agency-nl"}, Country: []string{"NL"}}
	p, err := auth.Identify(issue(ca, nl), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p.Agency != "agency-nl" || p.Jurisdiction != "NL" || p.Role != exhibit.RoleInvestigator || p.Person != "investigator-nl" {
		t.Errorf("got %+v, want investigator-nl of agency-nl", p)
	}
	if _, err := auth.Identify(issue(other, nl), time.Now()); err == nil {
		t.Error("the right subject from another CA was accepted")
	}
	if _, err := auth.Identify(issue(ca, pkix.Name{CommonName: "mallory", Organization: []string{"agency-nl"}}), time.Now()); err == nil {
		t.Error("an unmapped subject was accepted")
	}
	if _, err := auth.Identify(issue(ca, nl), time.Now().Add(2*time.Hour)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired certificate: got %v, want an error saying it expired", err)
	}
	if _, err := auth.Identify(&tls.ConnectionState{}, time.Now()); err == nil {
		t.Error("a connection without a verified chain was accepted")
	}
}

// TestIdentifyByIssuingCA: each agency's members are those its own CA certified: a
// certificate that names agency-nl in its subject but was issued by agency-us's CA is
// refused, though the gateway trusts that CA.
func TestIdentifyByIssuingCA(t *testing.T) {
	dir := t.TempDir()
	nlCA, err := pki.OpenAgencyDevCA(dir+"/nl", "agency-nl")
	if err != nil {
		t.Fatal(err)
	}
	usCA, err := pki.OpenAgencyDevCA(dir+"/us", "agency-us")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := NewAuthenticator([]Agency{
		{ID: "agency-nl", Jurisdiction: "NL", ClientCAs: []*x509.Certificate{nlCA.Cert()},
			Members: []Member{{Subject: "CN=investigator-nl,O=agency-nl,C=NL", Person: "investigator-nl", Role: exhibit.RoleInvestigator}}},
		{ID: "agency-us", Jurisdiction: "US", ClientCAs: []*x509.Certificate{usCA.Cert()},
			Members: []Member{{Subject: "CN=partner-us,O=agency-us,C=US", Person: "partner-us", Role: exhibit.RoleInvestigator}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := func(ca *pki.CA, subject pkix.Name) *tls.ConnectionState {
		c, _, err := ca.IssueClient(subject, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(c)
		cert, _ := x509.ParseCertificate(block.Bytes)
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	}
	nl := pkix.Name{CommonName: "investigator-nl", Organization: []string{"agency-nl"}, Country: []string{"NL"}}
	if p, err := auth.Identify(conn(nlCA, nl), time.Now()); err != nil || p.Agency != "agency-nl" {
		t.Fatalf("agency-nl's member by agency-nl's CA: got %+v, %v", p, err)
	}
	if p, err := auth.Identify(conn(usCA, nl), time.Now()); err == nil {
		t.Errorf("a certificate naming agency-nl issued by agency-us's CA was mapped to %+v", p)
	}
}
