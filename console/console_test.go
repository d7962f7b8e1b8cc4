package console

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
)

const (
	testEvidence = "ev-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	testRequest  = "rq-aaaaaaaaaaaaaaaaaaaaaaaaaa"
	testSHA256   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// member is a test agency CA and a member certificate it issued.
type member struct {
	ca   *x509.Certificate
	cert tls.Certificate
}

func newMember(t *testing.T) member {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agency-nl CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "investigator", Organization: []string{"agency-nl"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return member{ca: ca, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// fakeGateway answers the few routes the tests use and keeps the acts it received.
type fakeGateway struct {
	*httptest.Server
	mu       sync.Mutex
	acts     []string
	contents int
	// bodies are the bodies of the request routes and disposals received, by route;
	// routeActs the Custody-Act headers they carried.
	bodies    map[string]string
	routeActs map[string]string
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{bodies: map[string]string{}, routeActs: map[string]string{}}
	mux := http.NewServeMux()
	// The request routes and the disposal keep their body and answer as the gateway
	// does; the request is rq-aaaa….
	keep := func(status int, answer any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			g.mu.Lock()
			g.bodies[r.Method+" "+r.URL.Path] = string(b)
			g.routeActs[r.Method+" "+r.URL.Path] = r.Header.Get(api.HeaderCustodyAct)
			g.mu.Unlock()
			writeJSON(w, status, answer)
		}
	}
	rv := api.RequestView{RequestID: testRequest, From: "agency-us", To: "agency-nl", Instrument: "eio", State: api.RequestOpen,
		Digest: testSHA256}
	mux.HandleFunc("GET /v1/requests/{id}", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, rv) })
	mux.HandleFunc("POST /v1/requests", keep(http.StatusCreated, api.RequestResult{Request: rv}))
	mux.HandleFunc("POST /v1/requests/{id}/acknowledge", keep(http.StatusOK, api.RequestResult{Request: rv}))
	mux.HandleFunc("POST /v1/requests/{id}/withdraw", keep(http.StatusOK, api.RequestResult{Request: rv}))
	mux.HandleFunc("POST /v1/requests/{id}/respond", keep(http.StatusOK, api.RequestResult{Request: rv}))
	mux.HandleFunc("POST /v1/evidence/{id}/dispose", keep(http.StatusOK, api.DisposalResult{ContentDestroyed: true}))
	mux.HandleFunc("GET /v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, custody.Party{Agency: "agency-nl", Jurisdiction: "NL"})
	})
	mux.HandleFunc("GET /v1/evidence/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != testEvidence {
			writeProblem(w, &api.Problem{Type: api.ProblemBase + api.ProblemNotFound, Title: "Not Found", Status: 404, Detail: "no such evidence"})
			return
		}
		writeJSON(w, http.StatusOK, api.EvidenceView{EvidenceID: testEvidence, CaseID: "CASE-1", SHA256: testSHA256, Size: 3, Owner: "agency-nl"})
	})
	mux.HandleFunc("GET /v1/evidence/{id}/content", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.contents++
		g.mu.Unlock()
		w.Write([]byte("abc"))
	})
	mux.HandleFunc("POST /v1/evidence/{id}/grants", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.acts = append(g.acts, r.Header.Get(api.HeaderCustodyAct))
		g.mu.Unlock()
		var req api.ShareRequest
		json.NewDecoder(r.Body).Decode(&req)
		if req.To == "forbidden-agency" {
			writeProblem(w, &api.Problem{Type: api.ProblemBase + api.ProblemForbidden, Title: "Forbidden", Status: 403,
				Detail: "agency forbidden-agency is not a partner of agency-nl"})
			return
		}
		writeJSON(w, http.StatusCreated, api.GrantResult{Grant: api.GrantView{GrantID: "gr-aaaaaaaaaaaaaaaa", To: req.To, LegalBasis: req.LegalBasis}})
	})
	g.Server = httptest.NewUnstartedServer(mux)
	g.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert}
	g.StartTLS()
	t.Cleanup(g.Close)
	return g
}

// startConsole starts a console for m on a fake gateway and returns it with a browser:
// an HTTP client with a cookie jar that sends the console's own Origin.
func startConsole(t *testing.T, m member, g *fakeGateway) (*Console, *http.Client) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(g.Certificate())
	c, err := client.NewFromTLS(g.URL, &tls.Config{Certificates: []tls.Certificate{m.cert}, RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	con, err := Listen(Config{Client: c, Listen: "127.0.0.1:0", WorkDir: t.TempDir(), Gateway: g.URL})
	if err != nil {
		t.Fatal(err)
	}
	go con.Serve()
	t.Cleanup(func() { con.Close() })
	jar, _ := cookiejar.New(nil)
	return con, &http.Client{Jar: jar}
}

// login opens the console's login URL in browser.
func login(t *testing.T, con *Console, browser *http.Client) {
	t.Helper()
	resp, err := browser.Get(con.URL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", resp.Status)
	}
}

// do sends a request to the console as its page would, changed by edit.
func do(t *testing.T, con *Console, browser *http.Client, method, path, body string, edit func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+con.Addr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://"+con.Addr())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func problemKind(t *testing.T, b []byte) string {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("answer %q is not a problem: %v", b, err)
	}
	return p.Type[strings.Index(p.Type, "#")+1:]
}

// TestSessionRequired: without the session cookie nothing is served, the page
// included; the login URL works once.
func TestSessionRequired(t *testing.T) {
	g := newFakeGateway(t)
	con, browser := startConsole(t, newMember(t), g)
	for _, path := range []string{"/", "/app.js", "/v1/whoami", "/console/session"} {
		resp, b := do(t, con, browser, http.MethodGet, path, "", nil)
		if resp.StatusCode != http.StatusUnauthorized || problemKind(t, b) != problemSession {
			t.Errorf("GET %s without a session: %s %s, want 401 %s", path, resp.Status, b, problemSession)
		}
	}
	u, _ := url.Parse(con.URL())
	wrong := *u
	wrong.RawQuery = url.Values{"token": {"not-the-token"}}.Encode()
	if resp, _ := do(t, con, browser, http.MethodGet, wrong.RequestURI(), "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with a wrong token: %s, want 401", resp.Status)
	}
	login(t, con, browser)
	if resp, b := do(t, con, browser, http.MethodGet, "/v1/whoami", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "agency-nl") {
		t.Errorf("GET /v1/whoami after login: %s %s", resp.Status, b)
	}
	if resp, b := do(t, con, browser, http.MethodGet, "/", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Evidence console") {
		t.Errorf("GET / after login: %s", resp.Status)
	}
	// The token works once: another browser cannot use it again.
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar}
	if resp, _ := do(t, con, other, http.MethodGet, u.RequestURI(), "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("second login with the same token: %s, want 401", resp.Status)
	}
	if resp, _ := do(t, con, other, http.MethodGet, "/v1/whoami", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/whoami in the second browser: %s, want 401", resp.Status)
	}
}

// TestForeignRequestsRefused: with a valid session, a request that comes from
// another origin or names another host is refused, and no answer allows another
// origin to read it.
func TestForeignRequestsRefused(t *testing.T) {
	g := newFakeGateway(t)
	con, browser := startConsole(t, newMember(t), g)
	login(t, con, browser)
	share := `{"to":"agency-us","legal_basis":"MLAT 1","expires":"2030-01-01T00:00:00Z"}`
	tests := []struct {
		name   string
		method string
		edit   func(*http.Request)
		want   string
	}{
		{"rebound host name", http.MethodGet, func(r *http.Request) { r.Host = "attacker.example:" + strings.Split(con.Addr(), ":")[1] }, problemHost},
		{"localhost instead of the address", http.MethodGet, func(r *http.Request) { r.Host = "localhost:" + strings.Split(con.Addr(), ":")[1] }, problemHost},
		{"foreign origin reads", http.MethodGet, func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, problemOrigin},
		{"foreign origin changes", http.MethodPost, func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, problemOrigin},
		{"another local port", http.MethodPost, func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:1") }, problemOrigin},
		{"change without origin", http.MethodPost, func(r *http.Request) { r.Header.Del("Origin") }, problemOrigin},
		{"cross-site fetch", http.MethodGet, func(r *http.Request) { r.Header.Del("Origin"); r.Header.Set("Sec-Fetch-Site", "cross-site") }, problemOrigin},
		{"same-site fetch", http.MethodGet, func(r *http.Request) { r.Header.Del("Origin"); r.Header.Set("Sec-Fetch-Site", "same-site") }, problemOrigin},
		{"no cookie", http.MethodGet, func(r *http.Request) {}, problemSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, body := "/v1/whoami", ""
			if tt.method == http.MethodPost {
				path, body = "/v1/evidence/"+testEvidence+"/grants", share
			}
			b := browser
			if tt.want == problemSession {
				b = &http.Client{}
			}
			resp, out := do(t, con, b, tt.method, path, body, tt.edit)
			if resp.StatusCode/100 != 4 || problemKind(t, out) != tt.want {
				t.Errorf("%s %s: %s %s, want a 4xx %s", tt.method, path, resp.Status, out, tt.want)
			}
			if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("Access-Control-Allow-Origin %q: the console must not allow another origin", v)
			}
		})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.acts) != 0 {
		t.Errorf("the gateway received %d shares from refused requests", len(g.acts))
	}
	resp, _ := do(t, con, browser, http.MethodGet, "/", "", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, w := range []string{"default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, w) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, w)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q allows inline code", csp)
	}
}

// TestChangeSignedWithMembersAct: a share through the console reaches the gateway with
// the member's act, signed with the member's key, naming the share's terms.
func TestChangeSignedWithMembersAct(t *testing.T) {
	m := newMember(t)
	g := newFakeGateway(t)
	con, browser := startConsole(t, m, g)
	login(t, con, browser)
	resp, b := do(t, con, browser, http.MethodPost, "/v1/evidence/"+testEvidence+"/grants",
		`{"to":"agency-us","legal_basis":"MLAT request 2026/117","expires":"2030-01-01T00:00:00Z","max_downloads":3}`, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("share: %s %s", resp.Status, b)
	}
	g.mu.Lock()
	acts := append([]string(nil), g.acts...)
	g.mu.Unlock()
	if len(acts) != 1 || acts[0] == "" {
		t.Fatalf("the gateway received acts %q, want one", acts)
	}
	sa, err := api.ParseAct(acts[0])
	if err != nil {
		t.Fatal(err)
	}
	va, err := custody.VerifyAct(*sa, []*x509.Certificate{m.ca}, time.Now())
	if err != nil {
		t.Fatalf("the act does not verify against the member's CA: %v", err)
	}
	a := va.Statement.Predicate
	if a.Action != custody.ActionShare || a.Terms == nil || a.Terms.To != "agency-us" || a.Terms.LegalBasis != "MLAT request 2026/117" || a.Terms.MaxDownloads != 3 {
		t.Errorf("act %+v (terms %+v), want a share to agency-us under the request's terms", a, a.Terms)
	}
	if got := va.Statement.EvidenceID(); got != testEvidence {
		t.Errorf("act names evidence %s, want %s", got, testEvidence)
	}
	if got := va.Statement.SHA256(); got != testSHA256 {
		t.Errorf("act names digest %s, want the registered %s", got, testSHA256)
	}

	// A refusal comes back as the gateway's problem, its detail in plain words.
	resp, b = do(t, con, browser, http.MethodPost, "/v1/evidence/"+testEvidence+"/grants",
		`{"to":"forbidden-agency","legal_basis":"x","expires":"2030-01-01T00:00:00Z"}`, nil)
	var p api.Problem
	json.Unmarshal(b, &p)
	if resp.StatusCode != http.StatusForbidden || p.Detail != "agency forbidden-agency is not a partner of agency-nl" {
		t.Errorf("refused share: %s %s, want the gateway's 403 and its detail", resp.Status, b)
	}
}

// TestRoutes: reads pass through as the gateway answers them; the content and tus
// routes are not passed on (the console downloads and uploads itself); malformed
// bodies and ids are refused before the gateway is called.
func TestRoutes(t *testing.T) {
	g := newFakeGateway(t)
	con, browser := startConsole(t, newMember(t), g)
	login(t, con, browser)
	tests := []struct {
		method, path, body string
		status             int
		kind               string
	}{
		{http.MethodGet, "/v1/evidence/" + testEvidence, "", 200, ""},
		{http.MethodGet, "/v1/evidence/ev-bbbbbbbbbbbbbbbbbbbbbbbbbb", "", 404, api.ProblemNotFound},
		{http.MethodGet, "/v1/evidence/" + testEvidence + "/content", "", 404, problemNotProxied},
		{http.MethodGet, "/v1/uploads/abc", "", 404, problemNotProxied},
		{http.MethodPatch, "/v1/uploads/abc", "", 404, problemNotProxied},
		{http.MethodPost, "/v1/evidence/" + testEvidence + "/grants", `{"to":"x","unknown":1}`, 400, problemInvalid},
		{http.MethodPost, "/v1/evidence/not-an-id/grants", `{}`, 400, problemInvalid},
		{http.MethodPost, "/v1/evidence/" + testEvidence + "/grants/gr-x/revoke", `{}`, 400, problemInvalid},
		{http.MethodPost, "/console/uploads?case_id=%20bad", "abc", 400, problemInvalid},
		{http.MethodGet, "/console/jobs/job-none", "", 404, problemNotProxied},
		{http.MethodPost, "/v1/requests", `{"to":"agency-nl","unknown":1}`, 400, problemInvalid},
		{http.MethodPost, "/v1/requests/rq-x/acknowledge", `{}`, 400, problemInvalid},
		{http.MethodPost, "/v1/requests/rq-x/withdraw", ``, 400, problemInvalid},
		{http.MethodPost, "/v1/requests/" + testRequest + "/respond", `{"share":["ev-x"]}`, 400, problemInvalid},
		{http.MethodPost, "/v1/evidence/not-an-id/dispose", `{"authority":"x"}`, 400, problemInvalid},
		{http.MethodPost, "/console/uploads?case_id=CASE-1&source_sha256=abc", "abc", 400, problemInvalid},
		{http.MethodPost, "/console/uploads?case_id=CASE-1&seized_at=yesterday", "abc", 400, problemInvalid},
		{http.MethodPost, "/console/uploads?case_id=CASE-1&tool=a&tool=b", "abc", 400, problemInvalid},
	}
	for _, tt := range tests {
		resp, b := do(t, con, browser, tt.method, tt.path, tt.body, nil)
		if resp.StatusCode != tt.status || tt.kind != "" && problemKind(t, b) != tt.kind {
			t.Errorf("%s %s: %s %s, want %d %s", tt.method, tt.path, resp.Status, b, tt.status, tt.kind)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.bodies) != 0 {
		t.Errorf("the gateway received %v, want nothing", g.bodies)
	}
	if g.contents != 0 || len(g.acts) != 0 {
		t.Errorf("the gateway was called %d times for content and %d for shares, want 0", g.contents, len(g.acts))
	}
}

// TestListenLoopbackOnly: the console refuses any address but a loopback IP.
func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0", "192.0.2.1:0", "[::]:0", "127.0.0.1"} {
		if err := CheckListen(addr); err == nil {
			t.Errorf("CheckListen(%q) = nil, want an error", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:8100", "127.0.0.2:1234"} {
		if err := CheckListen(addr); err != nil {
			t.Errorf("CheckListen(%q) = %v, want nil", addr, err)
		}
	}
}

// TestRequestActions: filing, acknowledging, answering and withdrawing a request and
// disposing of evidence reach the gateway's routes with the page's body, as the client
// library sends them, and their answer comes back.
func TestRequestActions(t *testing.T) {
	g := newFakeGateway(t)
	con, browser := startConsole(t, newMember(t), g)
	login(t, con, browser)
	rq := "/v1/requests/" + testRequest
	tests := []struct {
		path, body string
		status     int
		want       any // what the gateway must receive, decoded
		act        custody.Action
	}{
		{"/v1/requests", `{"to":"agency-nl","instrument":"eio","reference":"EIO 1","issuing_authority":"DoJ","sought":"the image","case_id":"US-1","deadline":"2030-01-02T03:04:05Z","emergency":true}`,
			201, &api.FileRequest{To: "agency-nl", Instrument: "eio", Reference: "EIO 1", IssuingAuthority: "DoJ", Sought: "the image", CaseID: "US-1",
				Deadline: ptr(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)), Emergency: true}, custody.ActionRequestFiled},
		{rq + "/acknowledge", `{"reason":"in hand"}`, 200, &api.RequestAction{Reason: "in hand"}, custody.ActionRequestAcknowledged},
		{rq + "/withdraw", ``, 200, &api.RequestAction{}, custody.ActionRequestWithdrawn},
		{rq + "/respond", `{"share":["` + testEvidence + `"],"partial":true,"max_downloads":2}`, 200,
			&api.RespondRequest{Share: []string{testEvidence}, Partial: true, MaxDownloads: 2}, custody.ActionRequestPartiallyFulfilled},
		{rq + "/respond", `{"refuse":true,"reason":"no such data"}`, 200, &api.RespondRequest{Refuse: true, Reason: "no such data"}, custody.ActionRequestRefused},
		{"/v1/evidence/" + testEvidence + "/dispose", `{"authority":"court order 7"}`, 200, &api.DisposeRequest{Authority: "court order 7"}, custody.ActionDispose},
	}
	for _, tt := range tests {
		resp, b := do(t, con, browser, http.MethodPost, tt.path, tt.body, nil)
		if resp.StatusCode != tt.status {
			t.Errorf("POST %s: %s %s, want %d", tt.path, resp.Status, b, tt.status)
			continue
		}
		g.mu.Lock()
		got, called := g.bodies["POST "+tt.path]
		act := g.routeActs["POST "+tt.path]
		g.mu.Unlock()
		if !called {
			t.Errorf("POST %s: the gateway was not called on that route", tt.path)
			continue
		}
		// The console signs the member's act of each change, as the CLI does.
		if st, err := parseActHeader(act); err != nil || st.Predicate.Action != tt.act {
			t.Errorf("POST %s: the act sent is %+v (%v), want a signed %s act", tt.path, st.Predicate, err, tt.act)
		}
		into := reflect.New(reflect.TypeOf(tt.want).Elem()).Interface()
		if got != "" {
			if err := json.Unmarshal([]byte(got), into); err != nil {
				t.Errorf("POST %s: the gateway received %q: %v", tt.path, got, err)
			}
		}
		if !reflect.DeepEqual(into, tt.want) {
			t.Errorf("POST %s: the gateway received %s, want %+v", tt.path, got, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// parseActHeader decodes the statement of the signed act a Custody-Act header carries.
func parseActHeader(v string) (custody.ActStatement, error) {
	sa, err := api.ParseAct(v)
	if err != nil {
		return custody.ActStatement{}, err
	}
	if sa == nil {
		return custody.ActStatement{}, errors.New("no act")
	}
	b, err := sa.Envelope.PayloadBytes()
	if err != nil {
		return custody.ActStatement{}, err
	}
	return custody.ParseActStatement(b)
}
