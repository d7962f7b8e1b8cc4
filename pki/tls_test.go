package pki

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// handshakeTimeout bounds each test handshake, so that a bug shows as a failure
// rather than a hung test.
const handshakeTimeout = 10 * time.Second

// handshake runs a TLS handshake over an in-memory connection and returns the error
// each side saw and, on success, the client certificate the server verified. After a
// successful handshake the server sends one byte that the client reads, so that a
// rejection of the client certificate, which TLS 1.3 reports after the client's side
// of the handshake is done, reaches the client too.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) (peer *x509.Certificate, serverErr, clientErr error) {
	t.Helper()
	sconn, cconn := net.Pipe()
	deadline := time.Now().Add(handshakeTimeout)
	sconn.SetDeadline(deadline)
	cconn.SetDeadline(deadline)

	type result struct {
		err  error
		peer *x509.Certificate
	}
	done := make(chan result, 1)
	go func() {
		// Closing the raw connections, not the TLS ones, skips close_notify, which
		// nobody would read.
		defer sconn.Close()
		srv := tls.Server(sconn, serverCfg)
		if err := srv.HandshakeContext(t.Context()); err != nil {
			done <- result{err: err}
			return
		}
		_, err := srv.Write([]byte{'k'})
		done <- result{err: err, peer: srv.ConnectionState().PeerCertificates[0]}
	}()

	cli := tls.Client(cconn, clientCfg)
	clientErr = cli.HandshakeContext(t.Context())
	if clientErr == nil {
		_, clientErr = io.ReadFull(cli, make([]byte, 1))
	}
	cconn.Close()
	r := <-done
	return r.peer, r.err, clientErr
}

// clientConfig returns the TLS configuration of an identity, for a server called
// localhost.
func clientConfig(t *testing.T, certPEM, keyPEM, caPEM []byte) *tls.Config {
	t.Helper()
	id := Identity{CertPEM: certPEM, KeyPEM: keyPEM, CAPEM: caPEM, GatewayURL: "https://localhost:8443"}
	cfg, err := id.TLSConfig()
	if err != nil {
		t.Fatalf("TLSConfig: %v", err)
	}
	cfg.ServerName = "localhost"
	return cfg
}

func isUnknownAuthority(err error) bool {
	var e x509.UnknownAuthorityError
	return errors.As(err, &e)
}

func isInvalid(reason x509.InvalidReason) func(error) bool {
	return func(err error) bool {
		var e x509.CertificateInvalidError
		return errors.As(err, &e) && e.Reason == reason
	}
}

func isHostnameError(err error) bool {
	var e x509.HostnameError
	return errors.As(err, &e)
}

func isAnyError(err error) bool { return err != nil }

func TestHandshake(t *testing.T) {
	ca := newTestCA(t)
	otherCA := newTestCA(t)
	serverCert, serverKey := issueServer(t, ca)
	clientCert, clientKey := issueClient(t, ca)
	otherClientCert, otherClientKey := issueClient(t, otherCA)
	otherServerCert, otherServerKey := issueServer(t, otherCA)
	now := time.Now()
	expiredCert, expiredKey, err := ca.IssueClientWindow(testClientSubject, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	futureCert, futureKey, err := ca.IssueClientWindow(testClientSubject, now.Add(24*time.Hour), now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	serverCfg := func(certPEM, keyPEM []byte) *tls.Config {
		cfg, err := ServerTLSConfig(certPEM, keyPEM, ca.Pool())
		if err != nil {
			t.Fatalf("ServerTLSConfig: %v", err)
		}
		return cfg
	}
	noClientCert := clientConfig(t, clientCert, clientKey, ca.CertPEM())
	noClientCert.Certificates = nil
	wrongName := clientConfig(t, clientCert, clientKey, ca.CertPEM())
	wrongName.ServerName = "gateway.example"

	// A nil check means the side must succeed.
	tests := []struct {
		name        string
		server      *tls.Config
		client      *tls.Config
		serverCheck func(error) bool
		clientCheck func(error) bool
	}{
		{"valid", serverCfg(serverCert, serverKey), clientConfig(t, clientCert, clientKey, ca.CertPEM()), nil, nil},
		{"client certificate of another CA", serverCfg(serverCert, serverKey),
			clientConfig(t, otherClientCert, otherClientKey, ca.CertPEM()), isUnknownAuthority, isAnyError},
		{"expired client certificate", serverCfg(serverCert, serverKey),
			clientConfig(t, expiredCert, expiredKey, ca.CertPEM()), isInvalid(x509.Expired), isAnyError},
		{"client certificate not yet valid", serverCfg(serverCert, serverKey),
			clientConfig(t, futureCert, futureKey, ca.CertPEM()), isInvalid(x509.Expired), isAnyError},
		{"server certificate as client certificate", serverCfg(serverCert, serverKey),
			clientConfig(t, serverCert, serverKey, ca.CertPEM()), isInvalid(x509.IncompatibleUsage), isAnyError},
		{"no client certificate", serverCfg(serverCert, serverKey), noClientCert, isAnyError, isAnyError},
		{"server certificate of another CA", serverCfg(otherServerCert, otherServerKey),
			clientConfig(t, clientCert, clientKey, ca.CertPEM()), isAnyError, isUnknownAuthority},
		{"client certificate as server certificate", serverCfg(clientCert, clientKey),
			clientConfig(t, clientCert, clientKey, ca.CertPEM()), isAnyError, isAnyError},
		{"wrong server name", serverCfg(serverCert, serverKey), wrongName, isAnyError, isHostnameError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer, serverErr, clientErr := handshake(t, tt.server, tt.client)
			checkErr(t, "server", serverErr, tt.serverCheck)
			checkErr(t, "client", clientErr, tt.clientCheck)
			if tt.serverCheck != nil {
				return
			}
			if got, want := SubjectString(peer), testClientSubject.String(); got != want {
				t.Errorf("client subject seen by server: got %q, want %q", got, want)
			}
		})
	}
}

// checkErr fails t if err does not pass check, or is not nil when check is nil.
func checkErr(t *testing.T, side string, err error, check func(error) bool) {
	t.Helper()
	switch {
	case check == nil && err != nil:
		t.Errorf("%s: got error %v, want success", side, err)
	case check != nil && !check(err):
		t.Errorf("%s: got error %v, want a different failure", side, err)
	}
}

// TestLoopbackHTTPS runs a real HTTPS request over a loopback listener, with the
// client configured from an identity directory and the URL it holds.
func TestLoopbackHTTPS(t *testing.T) {
	ca := newTestCA(t)
	serverCert, serverKey := issueServer(t, ca)
	serverCfg, err := ServerTLSConfig(serverCert, serverKey, ca.Pool())
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, SubjectString(r.TLS.PeerCertificates[0]))
	}))
	srv.TLS = serverCfg
	srv.StartTLS()
	t.Cleanup(srv.Close)

	clientCert, clientKey := issueClient(t, ca)
	dir := t.TempDir()
	id := Identity{CertPEM: clientCert, KeyPEM: clientKey, CAPEM: ca.CertPEM(), GatewayURL: srv.URL}
	if err := WriteIdentity(dir, id); err != nil {
		t.Fatalf("WriteIdentity: %v", err)
	}
	loaded, err := LoadIdentity(dir)
	if err != nil {
		t.Fatalf("LoadIdentity: %v", err)
	}
	clientCfg, err := loaded.TLSConfig()
	if err != nil {
		t.Fatalf("TLSConfig: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: clientCfg}, Timeout: handshakeTimeout}
	t.Cleanup(client.CloseIdleConnections)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, loaded.GatewayURL+"/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resp.TLS.Version, uint16(tls.VersionTLS13); got != want {
		t.Errorf("TLS version: got %#x, want %#x", got, want)
	}
	if got, want := string(body), "CN=alice,OU=forensics,O=Example Police,C=NL"; got != want {
		t.Errorf("subject seen by the server: got %q, want %q", got, want)
	}
}

func TestServerTLSConfig(t *testing.T) {
	ca := newTestCA(t)
	certPEM, keyPEM := issueServer(t, ca)
	cfg, err := ServerTLSConfig(certPEM, keyPEM, ca.Pool())
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	if got, want := cfg.ClientAuth, tls.RequireAndVerifyClientCert; got != want {
		t.Errorf("ClientAuth: got %v, want %v", got, want)
	}
	if got, want := cfg.MinVersion, uint16(tls.VersionTLS13); got != want {
		t.Errorf("MinVersion: got %#x, want %#x", got, want)
	}
	if got, want := len(cfg.Certificates), 1; got != want {
		t.Errorf("certificates: got %d, want %d", got, want)
	}

	_, otherKey := issueServer(t, ca)
	tests := []struct {
		name    string
		certPEM []byte
		keyPEM  []byte
		pool    *x509.CertPool
		wantErr string
	}{
		{"nil client CA pool", certPEM, keyPEM, nil, "no client CA pool"},
		{"key of another certificate", certPEM, otherKey, ca.Pool(), "loading key pair"},
		{"no certificate", nil, keyPEM, ca.Pool(), "loading key pair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ServerTLSConfig(tt.certPEM, tt.keyPEM, tt.pool)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ServerTLSConfig: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSubjectStringAndFingerprint(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name    string
		subject pkix.Name
		want    string
	}{
		{"common name", pkix.Name{CommonName: "bob"}, "CN=bob"},
		{"full", testClientSubject, "CN=alice,OU=forensics,O=Example Police,C=NL"},
		{"escaped", pkix.Name{CommonName: "Doe, John", Organization: []string{"A+B"}}, `CN=Doe\, John,O=A\+B`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, _, err := ca.IssueClient(tt.subject, testValidity)
			if err != nil {
				t.Fatal(err)
			}
			cert := mustParseCert(t, certPEM)
			if got := SubjectString(cert); got != tt.want {
				t.Errorf("SubjectString: got %q, want %q", got, tt.want)
			}
			fp := Fingerprint(cert)
			if len(fp) != 64 || strings.ToLower(fp) != fp {
				t.Errorf("Fingerprint: got %q, want 64 lowercase hex digits", fp)
			}
		})
	}
	if got := SubjectString(nil); got != "" {
		t.Errorf("SubjectString(nil): got %q, want \"\"", got)
	}
	if got := Fingerprint(nil); got != "" {
		t.Errorf("Fingerprint(nil): got %q, want \"\"", got)
	}
}
