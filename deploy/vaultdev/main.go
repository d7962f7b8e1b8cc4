// Command vaultdev is a development Vault: Vault's real transit secrets
// engine behind a minimal shim of Vault's HTTP API, so that the Vault client
// libraries (github.com/hashicorp/vault/api, sigstore's kms/hashivault) talk
// to it unchanged. It is NOT a complete Vault: see package devvault.
//
//	vaultdev -addr 127.0.0.1:8200 -token-file TOKENFILE -data DIR [-transit-mount transit]
//
// The root token comes from -token-file, -token or $VAULTDEV_ROOT_TOKEN.
// SIGUSR1 toggles the seal (sealed: sys/health answers 503, engine paths 503).
// SIGINT or SIGTERM stops the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/evidencegw/evidencegw/deploy/vaultdev/internal/devvault"
)

// shutdownTimeout bounds how long in-flight requests may run after a stop
// signal.
const shutdownTimeout = 10 * time.Second

type config struct {
	addr          string
	token         string
	dataDir       string
	transitMounts []string
	nonLoopback   bool
}

func main() {
	cfg, err := loadConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vaultdev:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(cfg, logger); err != nil {
		logger.Error("fatal", "error", err)
		os.Exit(1)
	}
}

func loadConfig(args []string) (config, error) {
	fs := flag.NewFlagSet("vaultdev", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8200", "listen address (loopback only unless -allow-non-loopback)")
	token := fs.String("token", "", "root token (prefer -token-file or $VAULTDEV_ROOT_TOKEN: argv is visible to other users)")
	tokenFile := fs.String("token-file", "", "file holding the root token")
	dataDir := fs.String("data", "", "storage directory (empty: memory only, keys are lost on exit)")
	mounts := fs.String("transit-mount", "", "comma-separated paths at which to mount transit on start if not yet mounted")
	nonLoopback := fs.Bool("allow-non-loopback", false, "allow listening on a non-loopback address (key material is stored unencrypted)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg := config{addr: *addr, token: *token, dataDir: *dataDir, nonLoopback: *nonLoopback}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return config{}, fmt.Errorf("reading token file: %w", err)
		}
		cfg.token = strings.TrimSpace(string(b))
	}
	if cfg.token == "" {
		cfg.token = os.Getenv("VAULTDEV_ROOT_TOKEN")
	}
	if cfg.token == "" {
		return config{}, errors.New("no root token: set -token-file, -token or $VAULTDEV_ROOT_TOKEN")
	}
	for _, m := range strings.Split(*mounts, ",") {
		if m = strings.TrimSpace(m); m != "" {
			cfg.transitMounts = append(cfg.transitMounts, m)
		}
	}
	return cfg, checkLoopback(cfg)
}

func checkLoopback(cfg config) error {
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return fmt.Errorf("bad -addr %q: %w", cfg.addr, err)
	}
	ip := net.ParseIP(host)
	if cfg.nonLoopback || host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("-addr %s is not a loopback address; pass -allow-non-loopback to insist", cfg.addr)
}

func run(cfg config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	unlock, err := lockDataDir(cfg.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	srv, err := devvault.New(ctx, devvault.Config{
		RootToken:    cfg.token,
		DataDir:      cfg.dataDir,
		Logger:       logger,
		EngineLogger: hclog.New(&hclog.LoggerOptions{Name: "engine", Output: os.Stderr, JSONFormat: true, Level: hclog.Info}),
	})
	if err != nil {
		return err
	}
	defer srv.Close(context.Background())
	for _, m := range cfg.transitMounts {
		if srv.HasMount(m) {
			continue
		}
		if err := srv.EnableMount(ctx, m, "transit", "transit mounted by -transit-mount"); err != nil {
			return fmt.Errorf("mounting transit at %s: %w", m, err)
		}
		logger.InfoContext(ctx, "mounted", "path", m, "type", "transit")
	}
	go toggleSealOnSignal(ctx, srv, logger)
	return serve(ctx, cfg.addr, srv, logger)
}

func toggleSealOnSignal(ctx context.Context, srv *devvault.Server, logger *slog.Logger) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if srv.Sealed() {
				srv.Unseal()
			} else {
				srv.Seal()
			}
			logger.InfoContext(ctx, "seal toggled by SIGUSR1", "sealed", srv.Sealed())
		}
	}
}

func serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.InfoContext(ctx, "listening", "addr", ln.Addr().String(), "version", devvault.Version)
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return hs.Shutdown(sctx)
}
