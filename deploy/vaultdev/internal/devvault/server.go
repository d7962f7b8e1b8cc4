// Package devvault serves Vault's real transit secrets engine behind a
// minimal shim of Vault's HTTP API, for development stacks and tests.
//
// # What is real
//
// Every request under a mount is handled by the transit backend from
// github.com/hashicorp/vault/builtin/logical/transit, the same code a Vault
// server runs: key types, ciphertext format ("vault:vN:..."), datakey,
// decrypt, rewrap, rotate, sign, verify and their errors are Vault's own.
//
// # What is a shim
//
// Everything around the engine is a small stand-in written here:
//
//   - one root token, compared in constant time; no policies, no leases,
//     no token store (auth/token/lookup-self answers for the root token);
//   - a "seal" that is a flag: sealed means every authenticated path answers
//     503 "Vault is sealed" and sys/health answers 503; unsealing takes the
//     root token as the single unseal key;
//   - storage is Vault's sdk file backend (or memory), NOT encrypted by a
//     barrier: key material lies in plain files under the data directory;
//   - only the "transit" engine can be mounted through sys/mounts;
//   - no namespaces, response wrapping, audit devices, form-encoded bodies.
//
// The routes served are listed on [Server.ServeHTTP].
package devvault

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/logical"
)

// Version is reported by sys/health and sys/seal-status. It names the Vault
// release whose transit engine is compiled in.
const Version = "1.21.4+vaultdev"

// periodicInterval is how often each mount's periodic function (transit's
// automatic key rotation) runs; Vault's rollback manager uses one minute.
const periodicInterval = time.Minute

// maxRequestBytes caps request bodies, as Vault's default max_request_size.
const maxRequestBytes = 32 << 20

// Config configures a [Server].
type Config struct {
	// RootToken is the only token accepted in X-Vault-Token (or as a
	// bearer token), and the unseal key. Required.
	RootToken string
	// DataDir holds the storage. Empty means memory only: keys are lost
	// when the process exits.
	DataDir string
	// Logger receives the server's own logs. Required.
	Logger *slog.Logger
	// EngineLogger receives the transit engine's logs (Vault's libraries
	// log through hclog). Nil discards them.
	EngineLogger hclog.Logger
}

// Server is a development Vault: see the package documentation. It is safe
// for concurrent use.
type Server struct {
	token  []byte
	log    *slog.Logger
	elog   hclog.Logger
	store  logical.Storage
	sealed atomic.Bool

	mu     sync.RWMutex
	mounts map[string]*mount // keyed by path with a trailing slash

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New opens the storage in cfg.DataDir, remounts the mounts it records and
// starts the periodic functions. Call [Server.Close] to stop them.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.RootToken == "" {
		return nil, errors.New("creating dev vault: empty root token")
	}
	if cfg.Logger == nil {
		return nil, errors.New("creating dev vault: nil logger")
	}
	elog := cfg.EngineLogger
	if elog == nil {
		elog = hclog.NewNullLogger()
	}
	store, err := openStorage(cfg.DataDir, elog)
	if err != nil {
		return nil, fmt.Errorf("creating dev vault: %w", err)
	}
	s := &Server{
		token:  []byte(cfg.RootToken),
		log:    cfg.Logger,
		elog:   elog,
		store:  store,
		mounts: make(map[string]*mount),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if err := s.loadMounts(ctx); err != nil {
		return nil, fmt.Errorf("creating dev vault: %w", err)
	}
	go s.runPeriodic()
	return s, nil
}

// Close stops the periodic functions and cleans up every backend. Storage
// is durable before each successful write response, so Close need not run
// for keys to survive.
// Close may be called more than once.
func (s *Server) Close(ctx context.Context) {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, m := range s.mounts {
			m.backend.Cleanup(ctx)
		}
	})
}

// Seal makes the server answer like a sealed Vault until [Server.Unseal].
func (s *Server) Seal() { s.sealed.Store(true) }

// Unseal undoes [Server.Seal].
func (s *Server) Unseal() { s.sealed.Store(false) }

// Sealed reports whether the server is sealed.
func (s *Server) Sealed() bool { return s.sealed.Load() }

// checkToken reports whether r carries the root token.
func (s *Server) checkToken(r *http.Request) bool {
	tok := r.Header.Get("X-Vault-Token")
	if tok == "" {
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tok = b
		}
	}
	return s.isRootToken(tok)
}

func (s *Server) isRootToken(tok string) bool {
	return subtle.ConstantTimeCompare([]byte(tok), s.token) == 1
}

func (s *Server) runPeriodic() {
	defer close(s.done)
	t := time.NewTicker(periodicInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if !s.Sealed() {
				s.periodic()
			}
		}
	}
}

// periodic runs each mount's periodic function, as Vault's rollback manager
// does, so that transit's auto_rotate_period takes effect.
func (s *Server) periodic() {
	ctx, cancel := context.WithTimeout(context.Background(), periodicInterval)
	defer cancel()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.mounts {
		req := logical.RollbackRequest("")
		req.Storage = m.view
		req.MountPoint = m.Path
		if _, err := m.backend.HandleRequest(ctx, req); err != nil {
			s.log.ErrorContext(ctx, "periodic function", "mount", m.Path, "error", err)
		}
	}
}
