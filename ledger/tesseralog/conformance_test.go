package tesseralog_test

import (
	"crypto/rand"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
)

func TestConformance(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "test.example/tessera")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	l, err := tesseralog.New(t.Context(), tesseralog.Config{Dir: t.TempDir(), Signer: s, Verifier: v, Checkpoints: ledgertest.NewMemCheckpoints()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(t.Context()) })
	ledgertest.RunLog(t, l, v)
}
