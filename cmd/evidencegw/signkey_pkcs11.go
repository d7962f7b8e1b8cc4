//go:build pkcs11key

package main

import (
	"crypto/x509"

	"github.com/sigstore/cosign/v2/pkg/cosign/pkcs11key"
	"github.com/sigstore/sigstore/pkg/signature"
)

// pkcs11Signer opens the PKCS #11 key of an RFC 7512 URI through sigstore's PKCS #11
// provider (cosign's pkcs11key, crypto11 over cgo): module-path names the module (or
// COSIGN_PKCS11_MODULE_PATH), pin-value the PIN (or COSIGN_PKCS11_PIN; else it is asked
// on the terminal). It returns the certificate stored with the key on the token, if
// any, and a function that closes the session.
func pkcs11Signer(ref string) (signature.Signer, *x509.Certificate, func(), error) {
	conf := pkcs11key.NewPkcs11UriConfig()
	if err := conf.Parse(ref); err != nil {
		return nil, nil, nil, err
	}
	k, err := pkcs11key.GetKeyWithURIConfig(conf, true)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, _ := k.Certificate()
	return k, cert, k.Close, nil
}
