package exhibit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestReceiptTime: a receipt must be signed now; one dated in 2020, or tomorrow, is a
// replay or a wrong clock.
func TestReceiptTime(t *testing.T) {
	env := exhibittest.New(t, exhibittest.Options{})
	id := env.Register(t, env.Investigator, []byte("content")).Evidence.EvidenceID
	g := env.Share(t, id, env.ShareRequest(exhibittest.AgencyUS))
	sha := env.Show(t, env.Investigator, id).SHA256
	for _, when := range []time.Time{time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().Add(24 * time.Hour)} {
		r := exhibittest.Receipt(t, env.Partner, api.NewReceiptStatement(id, g.GrantID, sha, when))
		req := api.AcceptRequest{GrantID: g.GrantID, Receipt: &r}
		_, err := env.Service.Accept(t.Context(), env.AcceptAct(t, env.Partner, id, g.GrantID), id, req)
		var inv *exhibit.InvalidError
		if !errors.As(err, &inv) || !strings.Contains(err.Error(), "the receipt is dated") {
			t.Errorf("receipt dated %s: got %v, want an InvalidError about its date", when.Format(time.RFC3339), err)
		}
	}
	env.Accept(t, env.Partner, id, g.GrantID) // signed now: accepted
}
