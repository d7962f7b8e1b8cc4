package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestNoExistenceLeak: on every evidence route, a caller who may not see existing
// evidence gets byte for byte the answer it gets for evidence that does not exist
// (docs/api.md, Visibility), however well-formed its request.
func TestNoExistenceLeak(t *testing.T) {
	t.Parallel()
	f := newFixture(t, serverOptions{})
	// The court holds no grant of the pending exhibit: it is a stranger to it.
	notShared := f.pending
	const missing = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	routes := []struct {
		method, path string // %s is the evidence id
		body         func(t *testing.T, id string) string
	}{
		{"GET", "/v1/evidence/%s", nil},
		{"GET", "/v1/evidence/%s/events", nil},
		{"GET", "/v1/evidence/%s/content", nil},
		{"POST", "/v1/evidence/%s/grants", func(*testing.T, string) string {
			return f.expand(`{"to":"agency-us","legal_basis":"EIO 2026/3","expires":"{expires}"}`)
		}},
		{"POST", "/v1/evidence/%s/grants/" + f.grant + "/revoke", func(*testing.T, string) string { return `{"reason":"x"}` }},
		{"POST", "/v1/evidence/%s/accept", func(t *testing.T, id string) string {
			b, _ := json.Marshal(exhibittest.AcceptRequest(t, f.env.Stranger, id, f.grant, f.sha))
			return string(b)
		}},
		{"POST", "/v1/evidence/%s/bundle", nil},
		{"POST", "/v1/evidence/%s/bundle?consistency_from=1", nil},
		{"POST", "/v1/evidence/%s/hold", func(*testing.T, string) string { return `{"reason":"x"}` }},
		{"POST", "/v1/evidence/%s/release", nil},
	}
	callers := []struct {
		name string
		who  *exhibittest.Member
		id   string
	}{
		{"a stranger", &f.env.Stranger, f.id},
		{"a court without a grant", &f.env.Court, notShared},
	}
	for _, rt := range routes {
		for _, c := range callers {
			answer := func(id string) (int, http.Header, []byte) {
				body := ""
				if rt.body != nil {
					body = rt.body(t, id)
				}
				rec := f.do(t, c.who, rt.method, fmt.Sprintf(rt.path, id), body)
				return rec.Code, rec.Header(), rec.Body.Bytes()
			}
			gotCode, gotHdr, gotBody := answer(c.id)
			wantCode, wantHdr, wantBody := answer(missing)
			what := rt.method + " " + rt.path + " by " + c.name
			if gotCode != http.StatusNotFound || gotCode != wantCode || !bytes.Equal(gotBody, wantBody) {
				t.Errorf("%s: existing evidence answers %d %s, missing evidence %d %s; want the same 404",
					what, gotCode, gotBody, wantCode, wantBody)
			}
			for _, h := range []string{"Content-Type", "X-Content-Type-Options", "Allow", api.HeaderCustodyEvent} {
				if gotHdr.Get(h) != wantHdr.Get(h) {
					t.Errorf("%s: header %s is %q for existing evidence, %q for missing", what, h, gotHdr.Get(h), wantHdr.Get(h))
				}
			}
		}
	}
	// Nothing the strangers tried was recorded.
	for _, id := range []string{f.id, f.pending} {
		if h, err := f.env.Service.History(t.Context(), f.env.Investigator.Principal, id); err != nil || len(h.Events) > 4 {
			t.Errorf("the history of %s has %d events (%v) after the strangers' requests, want the set-up's", id, len(h.Events), err)
		}
	}
}
