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
