//go:build !pkcs11key

package main

import (
	"crypto/x509"
	"errors"

	"github.com/sigstore/sigstore/pkg/signature"
)

// errNoPKCS11 is the error of a pkcs11: key in a build without PKCS #11 support.
var errNoPKCS11 = errors.New("this evidencegw was built without PKCS #11 support: build it with cgo and -tags pkcs11key (docs/cli.md)")

func pkcs11Signer(string) (signature.Signer, *x509.Certificate, func(), error) {
	return nil, nil, nil, errNoPKCS11
}
