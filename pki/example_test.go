package pki_test

import (
	"crypto/x509/pkix"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/evidencegw/evidencegw/pki"
)

// Example sets up a development CA, issues a client identity for a gateway and loads
// it back, as an enrolment tool would.
func Example() {
	dir, err := os.MkdirTemp("", "pki-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ca, err := pki.OpenDevCA(filepath.Join(dir, "ca"))
	if err != nil {
		log.Fatal(err)
	}
	subject := pkix.Name{CommonName: "alice", Organization: []string{"Example Police"}}
	certPEM, keyPEM, err := ca.IssueClient(subject, 24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	id := pki.Identity{CertPEM: certPEM, KeyPEM: keyPEM, CAPEM: ca.CertPEM(), GatewayURL: "https://127.0.0.1:8443"}
	if err := pki.WriteIdentity(filepath.Join(dir, "alice"), id); err != nil {
		log.Fatal(err)
	}

	loaded, err := pki.LoadIdentity(filepath.Join(dir, "alice"))
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := loaded.TLSConfig()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("CA:", pki.SubjectString(ca.Cert()))
	fmt.Println("client:", pki.SubjectString(cfg.Certificates[0].Leaf))
	fmt.Println("gateway:", loaded.GatewayURL)
	// Output:
	// CA: CN=evidencegw development CA
	// client: CN=alice,O=Example Police
	// gateway: https://127.0.0.1:8443
}
