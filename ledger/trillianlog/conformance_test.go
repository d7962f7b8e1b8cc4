package trillianlog_test

import (
	"testing"

	"github.com/evidencegw/evidencegw/ledger/ledgertest"
)

func TestConformance(t *testing.T) {
	l, v, _ := newEnv(t).newLog(t)
	ledgertest.RunLog(t, l, v)
}
