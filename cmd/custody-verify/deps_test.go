package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The court's verifier must stay small and must not be able to talk to the network:
// its dependencies outside the standard library are exactly these, and it links no
// network client.
var allowedDeps = []string{
	"github.com/evidencegw/evidencegw/cmd/custody-verify",
	"github.com/evidencegw/evidencegw/custody",
	"github.com/evidencegw/evidencegw/internal/report",
	"github.com/evidencegw/evidencegw/internal/verifycmd",
	// encoding/json v2 semantics: duplicate and case-variant member names refused.
	"github.com/go-json-experiment/json",
	"github.com/go-json-experiment/json/internal",
	"github.com/go-json-experiment/json/internal/jsonflags",
	"github.com/go-json-experiment/json/internal/jsonopts",
	"github.com/go-json-experiment/json/internal/jsonwire",
	"github.com/go-json-experiment/json/jsontext",
	"github.com/spf13/pflag",
	"github.com/transparency-dev/formats/log",
	// C2SP tlog-cosignature verifiers of witness keys (NewVerifierForCosignatureV1),
	// with the ML-DSA cosignature/v1 keys it also accepts: filippo.io/mldsa and the
	// cryptobyte parser it uses.
	"github.com/transparency-dev/formats/note",
	"filippo.io/mldsa",
	"filippo.io/mldsa/internal/byteorder",
	"filippo.io/mldsa/internal/constanttime",
	"filippo.io/mldsa/internal/fips140",
	"filippo.io/mldsa/internal/fips140/mldsa",
	"filippo.io/mldsa/mldsacrypto",
	"golang.org/x/crypto/cryptobyte",
	"golang.org/x/crypto/cryptobyte/asn1",
	"github.com/transparency-dev/formats/proof",
	"github.com/transparency-dev/merkle",
	"github.com/transparency-dev/merkle/compact",
	"github.com/transparency-dev/merkle/proof",
	"github.com/transparency-dev/merkle/rfc6962",
	"golang.org/x/mod/sumdb/note",
}

var forbiddenStd = []string{"net/http", "net/rpc", "net/smtp", "crypto/tls", "os/exec"}

func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	for _, dep := range got {
		if !slices.Contains(allowedDeps, dep) {
			t.Errorf("custody-verify depends on %s, which is not in its allowed list", dep)
		}
	}
	std, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range strings.Fields(string(std)) {
		if slices.Contains(forbiddenStd, pkg) {
			t.Errorf("custody-verify links %s", pkg)
		}
	}
}
