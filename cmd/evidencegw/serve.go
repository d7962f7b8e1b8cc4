package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/gateway"
	"github.com/evidencegw/evidencegw/pki"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	// shutdownGrace bounds how long in-flight requests may finish after SIGTERM.
	shutdownGrace = 30 * time.Second
	// certValidity is the lifetime of development server and demo client certificates.
	certValidity = 365 * 24 * time.Hour
)

func newServeCmd(env clientEnv) *cobra.Command {
	var dataDir, configPath string
	cmd := &cobra.Command{
		Use:   "serve [--data DIR] [--config FILE]",
		Short: "Run the gateway",
		Long: `Run the gateway: the HTTPS API under mutual TLS, with the storage, key management and
custody log backends of the configuration (docs/config.md). Without --config, the
embedded default serves on 127.0.0.1:8443 with everything kept under --data, a
development CA, and an identity for each member of the demo agencies under
DIR/identities; its operations endpoints (/metrics, /healthz, /readyz, plain HTTP)
are on 127.0.0.1:9464. It logs JSON to stderr and stops gracefully on SIGINT or
SIGTERM.`,
		Example: `  evidencegw serve
  evidencegw serve --config gateway.yaml --data /var/lib/evidencegw`,
		GroupID:           groupServer,
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), configPath, dataDir, env.stderr)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./evidencegw-data", "data `DIR` (objects, keys, log, CA, identities)")
	cmd.Flags().StringVar(&configPath, "config", "", "YAML configuration `FILE` (default: the embedded default)")
	must(cmd.MarkFlagDirname("data"))
	return cmd
}

// runServe loads the configuration and serves until ctx is done.
func runServe(ctx context.Context, configPath, dataDir string, stderr io.Writer) error {
	cfg := defaultConfig()
	if configPath != "" {
		var err error
		if cfg, err = loadConfig(configPath); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	// Tessera and Trillian's client log through klog: send it to the same JSON log.
	klog.SetSlogLogger(logger.With("component", "log-backend"))
	return serve(ctx, cfg, dataDir, logger)
}

func serve(ctx context.Context, cfg Config, dataDir string, logger *slog.Logger) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	ca, err := pki.OpenDevCA(filepath.Join(dataDir, "ca"))
	if err != nil {
		return err
	}
	be, err := openBackends(ctx, cfg, dataDir, logger, asServer)
	if err != nil {
		return err
	}
	defer be.close(context.WithoutCancel(ctx))
	reg := prometheus.NewRegistry()
	svc, err := newService(cfg, be, logger, reg)
	if err != nil {
		return err
	}
	// Uploads that stopped before they were registered (a crash) leave content that
	// belongs to no exhibit: quarantine it before serving.
	sweep, err := svc.Sweep(ctx)
	if err != nil {
		return fmt.Errorf("looking for orphan uploads: %w", err)
	}
	logger.InfoContext(ctx, "orphan uploads swept", "exhibits", sweep.Exhibits, "orphans", len(sweep.Orphans),
		"newly_quarantined", len(sweep.Quarantined))
	expireUploads(ctx, svc, logger)
	go func() {
		t := time.NewTicker(uploadExpiryInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				expireUploads(ctx, svc, logger)
			}
		}
	}()
	// Custody events recorded while the catalog could not take their rows (a crash in
	// between) heal from their chains before serving, then every minute with the
	// deadlines of requests.
	if _, err := svc.HealCatalog(ctx); err != nil {
		return fmt.Errorf("healing the catalog: %w", err)
	}
	go watchCatalog(ctx, svc, logger)
	agencies := authAgencies(cfg, be.agencies)
	auth, err := gateway.NewAuthenticator(agencies)
	if err != nil {
		return err
	}
	lim := cfg.Limits
	srv, err := gateway.New(gateway.Config{Exhibits: svc, Auth: auth, MaxUploadBytes: cfg.MaxUploadBytes,
		BodyIdleTimeout: lim.BodyIdleTimeout, MemberUploads: lim.UploadsPerMember, MaxUploads: lim.MaxUploads,
		MemberRate: lim.RequestsPerSecond, MemberBurst: lim.RequestBurst,
		Logger: logger, Registry: reg, Ready: be.ready, Step: crashHook()})
	if err != nil {
		return err
	}
	if err := writeDemoIdentities(cfg, ca, be.agencies, filepath.Join(dataDir, "identities")); err != nil {
		return err
	}
	return listenAndServe(ctx, srv, cfg, ca, auth, filepath.Join(dataDir, "tls"), logger)
}

// uploadExpiryInterval is how often the gateway removes the resumable uploads past
// their expiry: an abandoned upload holds its parts at most this much longer.
const uploadExpiryInterval = 10 * time.Minute

// expireUploads removes the expired upload sessions; a failure is logged, and the next
// round tries again.
func expireUploads(ctx context.Context, svc *exhibit.Service, logger *slog.Logger) {
	rep, err := svc.ExpireUploads(ctx)
	if err != nil {
		logger.ErrorContext(ctx, "removing expired uploads", "err", err)
		return
	}
	if len(rep.Expired)+len(rep.Forgotten) > 0 {
		logger.InfoContext(ctx, "expired uploads removed", "unfinished", len(rep.Expired), "finished", len(rep.Forgotten))
	}
}

// catalogWatchInterval is how often the gateway heals the catalog and marks overdue
// requests: a minute is the granularity of the deadlines that matter (8 hours at the
// shortest) and costs one indexed query.
const catalogWatchInterval = time.Minute

// watchCatalog heals the catalog and marks overdue requests until ctx is done.
func watchCatalog(ctx context.Context, svc *exhibit.Service, logger *slog.Logger) {
	t := time.NewTicker(catalogWatchInterval)
	defer t.Stop()
	for {
		if n, err := svc.DueRequests(ctx); err != nil {
			logger.ErrorContext(ctx, "marking overdue requests", "err", err)
		} else if n > 0 {
			logger.InfoContext(ctx, "requests marked overdue", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := svc.HealCatalog(ctx); err != nil {
			logger.ErrorContext(ctx, "healing the catalog", "err", err)
		}
	}
}

// authAgencies returns the agencies with the CAs that issue their members'
// certificates (agencies.go).
func authAgencies(cfg Config, cas *agencyCAs) []gateway.Agency {
	out := make([]gateway.Agency, 0, len(cfg.Agencies))
	for _, a := range cfg.Agencies {
		ag := gateway.Agency{ID: a.ID, Jurisdiction: a.Jurisdiction, ClientCAs: cas.certs[a.ID]}
		for _, m := range a.Members {
			ag.Members = append(ag.Members, gateway.Member{Subject: m.Subject, Person: m.Person, Role: m.Role})
		}
		out = append(out, ag)
	}
	return out
}

// loadCerts reads the certificates of a PEM file.
func loadCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading client CA: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing client CA %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("client CA %s holds no certificate", path)
	}
	return certs, nil
}

func listenAndServe(ctx context.Context, srv *gateway.Server, cfg Config, ca *pki.CA, auth *gateway.Authenticator, tlsDir string, logger *slog.Logger) error {
	certPEM, keyPEM, err := serverCert(cfg, ca, tlsDir)
	if err != nil {
		return err
	}
	tlsCfg, err := pki.ServerTLSConfig(certPEM, keyPEM, auth.Pool)
	if err != nil {
		return err
	}
	// The gateway verifies client chains itself (gateway.Authenticator.Identify), so a
	// refused certificate gets a clear 401 instead of a torn handshake.
	tlsCfg.ClientAuth = tls.RequireAnyClientCert
	hs := srv.NewHTTPServer(cfg.Listen)
	hs.TLSConfig = tlsCfg
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	opsLn, err := listenOps(ctx, cfg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	servers := []*http.Server{hs}
	errc := make(chan error, 2)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	if opsLn != nil {
		ops := srv.NewOpsServer(opsLn.Addr().String())
		servers = append(servers, ops)
		go func() { errc <- ops.Serve(opsLn) }()
		logger.InfoContext(ctx, "operations endpoints listening", "url", "http://"+opsLn.Addr().String()+"/metrics")
	}
	logger.InfoContext(ctx, "evidencegw listening", "url", cfg.PublicURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.InfoContext(ctx, "shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutting down: %w", err)
		}
	}
	return nil
}

// listenOps opens the operations listener (/metrics, /healthz, /readyz), or returns
// nil when there is none. An address the configuration sets must be bound; the
// default one, taken (another gateway on the same machine), is logged and skipped,
// so that development gateways can run side by side.
func listenOps(ctx context.Context, cfg Config, logger *slog.Logger) (net.Listener, error) {
	addr, explicit := cfg.opsAddr()
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case explicit:
		return nil, fmt.Errorf("listening on ops_listen %s: %w", addr, err)
	}
	logger.WarnContext(ctx, "operations endpoints not served: their default address is taken; set ops_listen",
		"addr", addr, "err", err)
	return nil, nil
}

// serverCert returns the configured server certificate, or one from the development CA
// (kept in tlsDir and reused while it is valid).
func serverCert(cfg Config, ca *pki.CA, tlsDir string) ([]byte, []byte, error) {
	if cfg.TLS.Cert != "" {
		c, err := os.ReadFile(cfg.TLS.Cert)
		if err != nil {
			return nil, nil, fmt.Errorf("reading tls cert: %w", err)
		}
		k, err := os.ReadFile(cfg.TLS.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("reading tls key: %w", err)
		}
		return c, k, nil
	}
	certFile, keyFile := filepath.Join(tlsDir, "server.pem"), filepath.Join(tlsDir, "server-key.pem")
	if c, err := os.ReadFile(certFile); err == nil {
		if k, err := os.ReadFile(keyFile); err == nil {
			return c, k, nil
		}
	}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" && host != "localhost" && host != "127.0.0.1" && host != "::1" && host != "0.0.0.0" {
		hosts = append(hosts, host)
	}
	c, k, err := ca.IssueServer(hosts, certValidity)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(keyFile, k, 0o600); err != nil {
		return nil, nil, err
	}
	return c, k, os.WriteFile(certFile, c, 0o644)
}

// writeDemoIdentities issues, once, an identity directory for each member of an agency
// under that agency's development CA: identities/<person>. An identity issued by
// another CA (the single development CA of earlier releases) is issued again. Its
// ca.pem is the CA of the gateway's server certificate.
func writeDemoIdentities(cfg Config, serverCA *pki.CA, cas *agencyCAs, dir string) error {
	for _, ag := range cfg.Agencies {
		ca := cas.dev[ag.ID]
		if ca == nil {
			continue
		}
		for _, m := range ag.Members {
			idDir := filepath.Join(dir, m.Person)
			if id, err := pki.LoadIdentity(idDir); err == nil {
				if certs, err := pki.ParseCertificates(id.CertPEM); err == nil && ca.Issued(certs[0]) {
					continue
				}
			}
			subject, err := parseSubject(m.Subject)
			if err != nil {
				return fmt.Errorf("member %s: %w", m.Person, err)
			}
			c, k, err := ca.IssueClient(subject, certValidity)
			if err != nil {
				return err
			}
			if err := pki.WriteIdentity(idDir, pki.Identity{CertPEM: c, KeyPEM: k, CAPEM: serverCA.CertPEM(), GatewayURL: cfg.PublicURL}); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseSubject reads the simple subjects of development identities: CN, OU, O, L, ST, C
// attributes separated by commas, without escapes.
func parseSubject(s string) (pkix.Name, error) {
	var n pkix.Name
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" || strings.ContainsAny(v, `\+"`) {
			return n, fmt.Errorf("subject %q: cannot issue a development certificate for it", s)
		}
		switch k {
		case "CN":
			n.CommonName = v
		case "OU":
			n.OrganizationalUnit = append(n.OrganizationalUnit, v)
		case "O":
			n.Organization = append(n.Organization, v)
		case "L":
			n.Locality = append(n.Locality, v)
		case "ST":
			n.Province = append(n.Province, v)
		case "C":
			n.Country = append(n.Country, v)
		default:
			return n, fmt.Errorf("subject %q: unsupported attribute %q", s, k)
		}
	}
	return n, nil
}
