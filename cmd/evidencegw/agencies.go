package main

import (
	"crypto/x509"
	"fmt"
	"path/filepath"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/pki"
)

// agencyCADir is where, under the data directory, the development CA of each agency
// without a client_ca of its own is kept: agency-ca/<agency id>.
const agencyCADir = "agency-ca"

// agencyCAs are the CAs that issue each agency's members' certificates: the agency's
// client_ca, or its own development CA (kept in the data directory, created on first
// use). The gateway maps a client certificate to its agency by the CA that issued it,
// and checks each member's acts against it; the trust root lists them for courts.
type agencyCAs struct {
	certs map[string][]*x509.Certificate
	// dev holds the development CAs, which issue the demo identities.
	dev map[string]*pki.CA
}

func openAgencyCAs(cfg Config, dataDir string) (*agencyCAs, error) {
	a := &agencyCAs{certs: map[string][]*x509.Certificate{}, dev: map[string]*pki.CA{}}
	for _, ag := range cfg.Agencies {
		if ag.ClientCA != "" {
			certs, err := loadCerts(ag.ClientCA)
			if err != nil {
				return nil, fmt.Errorf("agency %s: %w", ag.ID, err)
			}
			a.certs[ag.ID] = certs
			continue
		}
		ca, err := pki.OpenAgencyDevCA(filepath.Join(dataDir, agencyCADir, ag.ID), ag.ID)
		if err != nil {
			return nil, fmt.Errorf("agency %s: %w", ag.ID, err)
		}
		a.dev[ag.ID], a.certs[ag.ID] = ca, []*x509.Certificate{ca.Cert()}
	}
	return a, nil
}

// trusted lists the agencies and their CAs for the trust root.
func (a *agencyCAs) trusted(cfg Config) []custody.TrustedAgency {
	out := make([]custody.TrustedAgency, 0, len(cfg.Agencies))
	for _, ag := range cfg.Agencies {
		out = append(out, custody.NewTrustedAgency(ag.ID, ag.Jurisdiction, a.certs[ag.ID]))
	}
	return out
}
