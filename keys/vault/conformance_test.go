package vault

import (
	"testing"

	"github.com/evidencegw/evidencegw/keys/keystest"
)

func TestConformance(t *testing.T) {
	m, cfg := newTestManager(t)
	for j := range cfg.KEKs {
		keystest.Run(t, m, j)
		return
	}
}
