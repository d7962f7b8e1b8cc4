package ledgertest_test

import (
	"crypto/rand"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger/ledgertest"
)

func TestMemLog(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "test.example/memlog")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	ledgertest.RunLog(t, ledgertest.NewMemLog(s), v)
}

func TestMemRecords(t *testing.T) { ledgertest.RunRecords(t, ledgertest.NewMemRecords()) }

func TestMemCheckpoints(t *testing.T) { ledgertest.RunCheckpoints(t, ledgertest.NewMemCheckpoints()) }
