package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// testServer is the gateway's handler over an exhibittest.Env, with the members of the
// test exchange mapped from their client certificates as cmd/evidencegw maps them.
type testServer struct {
	env     *exhibittest.Env
	srv     *Server
	handler http.Handler
	logs    *syncBuffer
}

// serverOptions change what newTestServer builds.
type serverOptions struct {
	env            exhibittest.Options
	maxUploadBytes int64
	ready          func(context.Context) error
}

func newTestServer(t *testing.T, opts serverOptions) *testServer {
	t.Helper()
	env := exhibittest.New(t, opts.env)
	var agencies []Agency
	for _, m := range env.Members() {
		p := m.Principal
		agencies = append(agencies, Agency{ID: p.Agency, Jurisdiction: p.Jurisdiction, ClientCAs: []*x509.Certificate{env.CA.Cert()},
			Members: []Member{{Subject: m.Subject, Person: p.Person, Role: p.Role}}})
	}
	auth, err := NewAuthenticator(agencies)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := New(Config{Exhibits: env.Service, Auth: auth, MaxUploadBytes: opts.maxUploadBytes,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Registry: env.Registry, Ready: opts.ready})
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{env: env, srv: srv, handler: srv.Handler(), logs: logs}
}

// request builds a request presenting m's client certificate (none if m is nil), as
// the TLS layer hands it to the handler.
func request(t *testing.T, m *exhibittest.Member, method, target string, body io.Reader) *http.Request {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, target, body)
	if m != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{m.Principal.Cert}}
	}
	return r
}

// serve runs one request through the handler.
func (ts *testServer) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, r)
	return rec
}

// do sends a request as m with a body (none if empty).
func (ts *testServer) do(t *testing.T, m *exhibittest.Member, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	var b io.Reader
	if body != "" {
		b = strings.NewReader(body)
	}
	return ts.serve(request(t, m, method, target, b))
}

// upload registers content as m over HTTP with its true Content-Digest.
func (ts *testServer) upload(t *testing.T, m *exhibittest.Member, content []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := request(t, m, http.MethodPost, "/v1/evidence?case_id="+exhibittest.CaseID, bytes.NewReader(content))
	r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(content)))
	return ts.serve(r)
}

// checkProblem checks that rec is the problem of the given status and kind, and
// returns it.
func checkProblem(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, kind string) api.Problem {
	t.Helper()
	var p api.Problem
	if ct := rec.Header().Get("Content-Type"); ct != api.ProblemMediaType {
		t.Errorf("%s: got Content-Type %q, want %q (status %d, body %s)", what, ct, api.ProblemMediaType, rec.Code, rec.Body)
		return p
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Errorf("%s: the problem does not decode: %v", what, err)
		return p
	}
	if rec.Code != status || p.Status != status || p.Type != api.ProblemBase+kind || p.Title != http.StatusText(status) || p.Detail == "" {
		t.Errorf("%s: got %d %+v, want status %d with type %s, its title and a detail", what, rec.Code, p, status, api.ProblemBase+kind)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: the problem is not marked nosniff", what)
	}
	return p
}

// decode decodes a JSON answer of the given status into v.
func decode(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("%s: got status %d (%s), want %d", what, rec.Code, rec.Body, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != api.JSONMediaType {
		t.Errorf("%s: got Content-Type %q, want %q", what, ct, api.JSONMediaType)
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: the answer does not decode as %T: %v", what, v, err)
	}
}

// syncBuffer is a buffer for a logger that several requests write to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
