package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/hashivault"

	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/pki"
)

// Environment variables of the act key flags.
const (
	keyEnv     = "EVIDENCEGW_KEY"
	keyCertEnv = "EVIDENCEGW_KEY_CERT"
)

// pkcs11Scheme starts a PKCS #11 URI (RFC 7512).
const pkcs11Scheme = "pkcs11:"

// actSigner returns the signer of the member's acts named by ref (--key, or the
// identity's act-key), with the certificate chain in certPEM (--key-cert, or the
// identity's act-cert.pem; for a PKCS #11 key without either, the certificate stored
// with the key on the token). ref is a PEM private key file (PKCS #8, SEC 1 or PKCS #1;
// relative to dir when it comes from the identity), hashivault://KEY (a Vault Transit
// key: VAULT_ADDR, VAULT_TOKEN and TRANSIT_SECRET_ENGINE_PATH are read) or a pkcs11: URI.
func actSigner(ctx context.Context, ref, dir string, certPEM []byte) (*client.ActSigner, func(), error) {
	var (
		s     signature.Signer
		certs []*x509.Certificate
		done  = func() {}
		err   error
	)
	switch {
	case strings.HasPrefix(ref, hashivault.ReferenceScheme):
		s, err = hashivault.LoadSignerVerifier(ref, crypto.SHA256)
	case strings.HasPrefix(ref, pkcs11Scheme):
		var tokenCert *x509.Certificate
		s, tokenCert, done, err = pkcs11Signer(ref)
		if tokenCert != nil {
			certs = []*x509.Certificate{tokenCert}
		}
	default:
		if dir != "" && !filepath.IsAbs(ref) {
			ref = filepath.Join(dir, ref)
		}
		s, err = fileSigner(ref)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("loading the act key %s: %w", redactRef(ref), err)
	}
	if len(certPEM) > 0 {
		if certs, err = pki.ParseCertificates(certPEM); err != nil {
			done()
			return nil, nil, fmt.Errorf("the act key's certificate: %w", err)
		}
	}
	if len(certs) == 0 {
		done()
		return nil, nil, fmt.Errorf("the act key %s needs its certificate, issued by your agency's CA: give --key-cert FILE", redactRef(ref))
	}
	as, err := client.NewActSigner(s, certs)
	if err != nil {
		done()
		return nil, nil, err
	}
	return as, done, nil
}

// redactRef keeps a PIN out of messages: a pkcs11: URI may carry pin-value.
func redactRef(ref string) string {
	if i := strings.Index(ref, "pin-value="); i >= 0 {
		j := strings.IndexAny(ref[i:], "&;")
		if j < 0 {
			return ref[:i] + "pin-value=REDACTED"
		}
		return ref[:i] + "pin-value=REDACTED" + ref[i+j:]
	}
	return ref
}

// fileSigner loads a PEM private key file: ECDSA, RSA or Ed25519.
func fileSigner(path string) (signature.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, errors.New("no PEM private key")
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		key, err := parsePrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		return signature.LoadSigner(key, crypto.SHA256)
	}
}

func parsePrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("the PEM private key is not PKCS #8, SEC 1 or PKCS #1")
}
