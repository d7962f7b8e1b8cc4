package verifycmd

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/internal/report/reporttest"
)

// newCosigner returns a witness's cosignature/v1 signer and verifier key.
func newCosigner(t *testing.T, name string) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness.example/"+name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	cosigKey, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, cosigKey
}

// TestWitnessPolicyFlag: the court's own policy decides, whatever the trust root says.
func TestWitnessPolicyFlag(t *testing.T) {
	w1, k1 := newCosigner(t, "w1")
	w2, k2 := newCosigner(t, "w2")
	_, k3 := newCosigner(t, "w3")
	_, stranger := newCosigner(t, "stranger")
	x := newTestExhibitWith(t, reporttest.Options{Witnesses: []note.Signer{w1, w2}})
	policy := func(name, text string) string {
		path := filepath.Join(x.dir, name)
		writeFile(t, path, []byte(text))
		return path
	}
	twoOfThree := policy("2of3.txt", fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup g 2 a b c\nquorum g\n", k1, k2, k3))
	allThree := policy("all.txt", fmt.Sprintf("witness a %s\nwitness b %s\nwitness c %s\ngroup g all a b c\nquorum g\n", k1, k2, k3))
	unheld := policy("stranger.txt", fmt.Sprintf("witness s %s\nquorum s\n", stranger))
	malformed := policy("bad.txt", "witness s\n")
	tests := []struct {
		name     string
		policy   string
		wantCode int
		want     string
	}{
		{"2 of 3, cosigned by 2", twoOfThree, ExitOK, "VERIFIED"},
		{"all 3, cosigned by 2", allThree, ExitVerificationFailed, "do not meet the witness policy"},
		{"a key no witness holds", unheld, ExitVerificationFailed, "no cosignature of a witness of the policy"},
		{"malformed policy", malformed, ExitFailed, "witness policy line 1"},
		{"missing policy", filepath.Join(x.dir, "none.txt"), ExitFailed, "reading witness policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := Command([]string{x.bundlePath, "--trust-root", x.trustRootPath, "--witness-policy", tt.policy}, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if out := stdout.String() + stderr.String(); !strings.Contains(out, tt.want) {
				t.Errorf("output does not mention %q:\n%s", tt.want, out)
			}
		})
	}
}
