package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// testServer is the gateway's handler over an exhibittest.Env, with the members of the
// test exchange mapped from their client certificates as cmd/evidencegw maps them.
type testServer struct {
	t       testing.TB
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
	// The limits of Config; zero: none.
	bodyIdle      time.Duration
	memberUploads int
	maxUploads    int
	memberRate    float64
	memberBurst   int
	// now is the gateway's clock; time.Now if nil.
	now func() time.Time
}

func newTestServer(t testing.TB, opts serverOptions) *testServer {
	t.Helper()
	env := exhibittest.New(t, opts.env)
	var agencies []Agency
	for _, m := range env.Members() {
		p := m.Principal
		agencies = append(agencies, Agency{ID: p.Agency, Jurisdiction: p.Jurisdiction, ClientCAs: []*x509.Certificate{env.CAOf(p.Agency).Cert()},
			Members: []Member{{Subject: m.Subject, Person: p.Person, Role: p.Role}}})
	}
	auth, err := NewAuthenticator(agencies)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := New(Config{Exhibits: env.Service, Auth: auth, MaxUploadBytes: opts.maxUploadBytes,
		BodyIdleTimeout: opts.bodyIdle, MemberUploads: opts.memberUploads, MaxUploads: opts.maxUploads, MemberRate: opts.memberRate, MemberBurst: opts.memberBurst,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Registry: env.Registry, Ready: opts.ready, Now: opts.now})
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{t: t, env: env, srv: srv, handler: srv.Handler(), logs: logs}
}

// metrics returns what the operations listener serves at /metrics.
func (ts *testServer) metrics(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	ts.srv.OpsHandler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics on the operations handler: got %d, want 200", rec.Code)
	}
	return rec.Body.String()
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

// serve runs one request through the handler, with the member's signed act if it is a
// change of custody that carries none (signRequest).
func (ts *testServer) serve(r *http.Request) *httptest.ResponseRecorder {
	ts.signRequest(ts.t, r)
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

// tlsServer is the gateway's handler behind a real mutual-TLS listener, with the
// http.Server settings of NewHTTPServer (timeouts, connection count, HTTP/2 config).
type tlsServer struct {
	*httptest.Server
}

// startTLS serves ts over TLS, HTTP/2 if http2 is set, else HTTP/1.1 only.
func (ts *testServer) startTLS(t testing.TB, http2 bool) *tlsServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = ts.srv.NewHTTPServer("")
	srv.EnableHTTP2 = http2
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &tlsServer{srv}
}

// clientCert is m's certificate for a TLS client.
func clientCert(m exhibittest.Member) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{m.Principal.Cert.Raw}, PrivateKey: m.Key, Leaf: m.Principal.Cert}
}

// client returns an HTTP client presenting m's certificate.
func (s *tlsServer) client(m exhibittest.Member) *http.Client {
	c := s.Client()
	c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{clientCert(m)}
	return c
}

// dial opens an HTTP/1.1 connection presenting m's certificate, to write requests by
// hand; d, if not nil, dials the TCP connection.
func (s *tlsServer) dial(t *testing.T, m exhibittest.Member, d *net.Dialer) *tls.Conn {
	t.Helper()
	if d == nil {
		d = &net.Dialer{}
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	c, err := tls.DialWithDialer(d, "tcp", s.Listener.Addr().String(), &tls.Config{
		RootCAs: pool, Certificates: []tls.Certificate{clientCert(m)}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readResponse reads one response from c within d, with its body.
func readResponse(t *testing.T, c net.Conn, br *bufio.Reader, d time.Duration) (*http.Response, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return resp, b
}

// checkProblemResponse is checkProblem for a response read off a connection.
func checkProblemResponse(t *testing.T, what string, resp *http.Response, body []byte, status int, kind string) api.Problem {
	t.Helper()
	rec := httptest.NewRecorder()
	for k, v := range resp.Header {
		rec.Header()[k] = v
	}
	rec.WriteHeader(resp.StatusCode)
	rec.Write(body)
	return checkProblem(t, what, rec, status, kind)
}

// metricValue returns the value of one sample of the metrics, such as
// `evidencegw_http_idle_cut_total{direction="request"}`; "" if absent.
func metricValue(metrics, sample string) string {
	for l := range strings.Lines(metrics) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), sample+" "); ok {
			return v
		}
	}
	return ""
}

// waitMetric waits until a sample of ts's metrics has the value want.
// waitLog returns the server's log once it holds text, or as it is after within.
func (ts *testServer) waitLog(t *testing.T, text string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		logs := ts.logs.String()
		if strings.Contains(logs, text) || time.Now().After(deadline) {
			return logs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (ts *testServer) waitMetric(t *testing.T, sample, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := metricValue(ts.metrics(t), sample)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %s is %q, want %s", within, sample, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
