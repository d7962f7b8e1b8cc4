package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"syscall"
	"testing"
)

// TestClientGone: a download the client cuts is the client's doing, not a failure of
// the gateway to log as an error.
func TestClientGone(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/evidence/x/content", nil)
	for _, err := range []error{
		fmt.Errorf("writing: %w", syscall.ECONNRESET),
		fmt.Errorf("writing: %w", syscall.EPIPE),
		context.Canceled,
	} {
		if !clientGone(r, err) {
			t.Errorf("clientGone(%v) = false, want true", err)
		}
	}
	if clientGone(r, errors.New("stored content failed its integrity check")) {
		t.Error("clientGone of a gateway failure = true, want false")
	}
	ctx, cancel := context.WithCancel(r.Context())
	cancel()
	if !clientGone(r.WithContext(ctx), errors.New("any")) {
		t.Error("clientGone of a cancelled request = false, want true")
	}
}
