package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/pki"
)

// TestUnauthenticated: a request whose client certificate is missing or refused gets
// a 401 problem on every path, before routing, saying why.
func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	other, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nl := pkix.Name{CommonName: "investigator-nl", Organization: []string{"agency-nl"}, Country: []string{"NL"}}
	cert := func(ca *pki.CA, subject pkix.Name, from, to time.Time) *tls.ConnectionState {
		c, _, err := ca.IssueClientWindow(subject, from, to)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(c)
		x, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{x}}
	}
	now := time.Now()
	tests := []struct {
		name       string
		tls        *tls.ConnectionState
		wantDetail string
	}{
		{"no TLS", nil, "no client certificate"},
		{"no certificate", &tls.ConnectionState{}, "no client certificate"},
		{"another CA", cert(other, nl, now.Add(-time.Hour), now.Add(time.Hour)), "not issued by a CA this gateway trusts"},
		{"expired", cert(ts.env.CAOf("agency-nl"), nl, now.Add(-2*time.Hour), now.Add(-time.Hour)), "expired at"},
		{"not yet valid", cert(ts.env.CAOf("agency-nl"), nl, now.Add(time.Hour), now.Add(2*time.Hour)), "not valid before"},
		{"unmapped subject", cert(ts.env.CAOf("agency-nl"), pkix.Name{CommonName: "mallory", Organization: []string{"agency-nl"}, Country: []string{"NL"}},
			now.Add(-time.Hour), now.Add(time.Hour)), "not mapped to a member"},
	}
	paths := []string{"/v1/whoami", "/v1/evidence/ev-aaaaaaaaaaaaaaaaaaaaaaaaaa", "/v1/no-such-endpoint", "/healthz", "/metrics"}
	for _, tt := range tests {
		for _, path := range paths {
			r := request(t, nil, http.MethodGet, path, nil)
			r.TLS = tt.tls
			rec := ts.serve(r)
			p := checkProblem(t, tt.name+" "+path, rec, http.StatusUnauthorized, api.ProblemUnauthenticated)
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("%s %s: got detail %q, want it to say %q", tt.name, path, p.Detail, tt.wantDetail)
			}
		}
	}
	if m := ts.metrics(t); !strings.Contains(m, "evidencegw_unauthenticated_total 30") {
		t.Errorf("the metrics do not count the 30 refused requests:\n%s", grepLines(m, "unauthenticated"))
	}
}

func TestNoSuchEndpoint(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	for _, path := range []string{"/", "/v2/whoami", "/v1", "/v1/", "/v1/nothing", "/v1/evidence/ev-aaaaaaaaaaaaaaaaaaaaaaaaaa/nothing",
		"/v1/evidence/ev-aaaaaaaaaaaaaaaaaaaaaaaaaa/grants/gr-aaaaaaaaaaaaaaaa", "/healthz/x", "/metrics"} {
		rec := ts.do(t, &ts.env.Investigator, http.MethodGet, path, "")
		p := checkProblem(t, "GET "+path, rec, http.StatusNotFound, api.ProblemNotFound)
		if p.Detail != "no such endpoint" {
			t.Errorf("GET %s: got detail %q, want %q", path, p.Detail, "no such endpoint")
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	const id = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	tests := []struct {
		method, path string
		wantAllow    string
	}{
		{http.MethodPut, "/v1/evidence/" + id, "GET"},
		{http.MethodDelete, "/v1/evidence/" + id, "GET"},
		{http.MethodPost, "/v1/evidence/" + id, "GET"},
		{http.MethodGet, "/v1/evidence", "POST"},
		{http.MethodDelete, "/v1/evidence", "POST"},
		{http.MethodPut, "/v1/evidence/" + id + "/grants", "POST"},
		{http.MethodDelete, "/v1/evidence/" + id + "/grants/gr-aaaaaaaaaaaaaaaa/revoke", "POST"},
		{http.MethodGet, "/v1/evidence/" + id + "/bundle", "POST"},
		{http.MethodPut, "/v1/evidence/" + id + "/content", "GET"},
		{http.MethodDelete, "/v1/evidence/" + id + "/hold", "POST"},
		{http.MethodPost, "/v1/log/checkpoint", "GET"},
		{http.MethodPut, "/healthz", "GET"},
	}
	for _, tt := range tests {
		rec := ts.do(t, &ts.env.Investigator, tt.method, tt.path, "")
		checkProblem(t, tt.method+" "+tt.path, rec, http.StatusMethodNotAllowed, api.ProblemMethodNotAllowed)
		if got := rec.Header().Get("Allow"); got != tt.wantAllow {
			t.Errorf("%s %s: got Allow %q, want %q", tt.method, tt.path, got, tt.wantAllow)
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
