// Package gateway is the gateway's HTTP API: mutual-TLS identity, authorization through
// the policy engine, the upload and download pipelines, custody recording, and the one
// place where errors become HTTP statuses. docs/api.md and docs/openapi.yaml describe it.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// Request limits.
const (
	// maxJSONBody bounds every JSON request body.
	maxJSONBody = 64 << 10
	// chainRetries bounds how often a request re-reads a chain that moved concurrently.
	chainRetries = 5
	// readHeaderTimeout bounds how long a client may take to send its headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes keep-alive connections left idle. Bodies have no deadline:
	// an upload or download of tens of GB may take hours.
	idleTimeout = 2 * time.Minute
)

// Deps are the gateway's collaborators, wired by cmd/evidencegw.
type Deps struct {
	Config    Config
	Auth      *Authenticator
	Policy    *policy.Engine
	Ledger    *ledger.Ledger
	Log       ledger.Log
	Sealer    *storage.Sealer
	Store     storage.Store
	TrustRoot *custody.TrustRoot
	// CurrentTrustRoot, if set, returns the trust root now (event keys may have been
	// rotated since start); TrustRoot is served otherwise.
	CurrentTrustRoot func(ctx context.Context) (*custody.TrustRoot, error)
	Logger           *slog.Logger
	// Registry receives the gateway's metrics; a new one if nil.
	Registry *prometheus.Registry
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Ready reports whether the backends are reachable, for /readyz; always ready if nil.
	Ready func(ctx context.Context) error
}

// Server serves the gateway API.
type Server struct {
	Deps
	metrics *metrics
	locks   keyedMutex
}

// New returns the gateway's handler.
func New(d Deps) (*Server, error) {
	if d.Auth == nil || d.Policy == nil || d.Ledger == nil || d.Log == nil || d.Sealer == nil || d.Store == nil || d.TrustRoot == nil {
		return nil, errors.New("gateway: missing dependency")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Server{Deps: d, metrics: newMetrics(d.Registry)}, nil
}

// Handler returns the routed, authenticated handler.
func (s *Server) Handler() http.Handler {
	return s.authenticate(s.routes())
}

// routes maps every endpoint to its handler.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, Problem{Type: problemBase + "not-found", Title: "Not Found", Status: 404, Detail: "no such endpoint"})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, Problem{Type: problemBase + "method-not-allowed", Title: "Method Not Allowed", Status: 405})
	})
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	v1 := r.PathPrefix("/v1").Subrouter()
	v1.HandleFunc("/whoami", s.api(s.whoami)).Methods(http.MethodGet)
	v1.HandleFunc("/trust-root", s.api(s.trustRoot)).Methods(http.MethodGet)
	v1.HandleFunc("/log/checkpoint", s.api(s.logCheckpoint)).Methods(http.MethodGet)
	v1.HandleFunc("/log/consistency", s.api(s.logConsistency)).Methods(http.MethodGet)
	v1.HandleFunc("/log/leaves", s.api(s.logLeaves)).Methods(http.MethodGet)
	v1.HandleFunc("/evidence", s.api(s.upload)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}", s.api(s.show)).Methods(http.MethodGet)
	v1.HandleFunc("/evidence/{id}/events", s.api(s.history)).Methods(http.MethodGet)
	v1.HandleFunc("/evidence/{id}/grants", s.api(s.share)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/grants/{grant}/revoke", s.api(s.revoke)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/accept", s.api(s.accept)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/content", s.api(s.download)).Methods(http.MethodGet)
	v1.HandleFunc("/evidence/{id}/bundle", s.api(s.bundle)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/hold", s.api(s.hold)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/release", s.api(s.release)).Methods(http.MethodPost)
	return r
}

// NewHTTPServer returns an http.Server for the handler with the gateway's timeouts.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Addr:              s.Config.Listen,
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
}

type principalKey struct{}

// authenticate maps the client certificate to a principal before any handler runs.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Auth.Identify(r.TLS, s.Now())
		if err != nil {
			s.metrics.denials.WithLabelValues("unauthenticated").Inc()
			s.Logger.WarnContext(r.Context(), "request refused: client certificate", "audit", true,
				"subject", subjectOf(r), "path", r.URL.Path, "reason", err.Error())
			writeProblem(w, Problem{Type: problemBase + "unauthenticated", Title: "Unauthorized", Status: 401, Detail: err.Error()})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func subjectOf(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0].Subject.String()
	}
	return ""
}

// handlerFunc is an API handler: it writes its success response and returns errors.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p Principal) error

// api adapts a handlerFunc: metrics, access log, error mapping.
func (s *Server) api(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p := r.Context().Value(principalKey{}).(Principal)
		route := "unknown"
		if cr := mux.CurrentRoute(r); cr != nil {
			route, _ = cr.GetPathTemplate()
		}
		sw := &statusWriter{ResponseWriter: w}
		err := h(sw, r, p)
		if err != nil {
			prob := httpError(r.Context(), s.Logger, err)
			if sw.status != 0 {
				// Headers are gone: the only honest signal left is to break the stream.
				s.Logger.ErrorContext(r.Context(), "response aborted", "err", err)
				panic(http.ErrAbortHandler)
			}
			writeProblem(sw, prob)
		}
		s.metrics.requests.WithLabelValues(r.Method, route, statusClass(sw.code())).Inc()
		s.Logger.InfoContext(r.Context(), "request", "method", r.Method, "route", route, "status", sw.code(),
			"principal", p, "duration_ms", time.Since(start).Milliseconds())
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			s.Logger.WarnContext(r.Context(), "not ready", "err", err)
			writeProblem(w, Problem{Type: problemBase + "unavailable", Title: "Service Unavailable", Status: 503, Detail: "a backend is unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// keyedMutex serializes work per key (per evidence item) within this process. Across
// replicas, the write-once event store detects races (ledger.ErrConflict).
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
