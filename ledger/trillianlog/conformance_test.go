package trillianlog_test

import (
	"testing"

	"github.com/evidencegw/evidencegw/ledger/logtest"
)

func TestConformance(t *testing.T) {
	l, v, _ := newEnv(t).newLog(t)
	logtest.Run(t, l, v)
}
