package keys_test

import (
	"testing"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/keys/keystest"
)

func TestLocalConformance(t *testing.T) {
	l, err := keys.OpenLocal(t.TempDir(), "test.example/log")
	if err != nil {
		t.Fatal(err)
	}
	keystest.Run(t, l, "NL")
}
