// Package gateway is the gateway's HTTP layer: routing (gorilla/mux), identity from the
// mutual-TLS client certificate, decoding of requests, streaming of content, the bounds
// on what one client may hold (idle bodies cut, idle.go; per-member and gateway-wide
// limits, limits.go), the operations endpoints for a listener of their own (ops.go), and
// the one place where errors become HTTP statuses (errors.go). Every use case lives in
// the application layer, package exhibit; docs/api.md and docs/openapi.yaml describe the
// API.
//
// It may import exhibit, api, custody (for its media types) and its HTTP libraries; it
// must not import storage, keys, ledger or policy, and it loads no configuration file:
// cmd/evidencegw wires it.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	tusd "github.com/tus/tusd/v2/pkg/handler"

	"github.com/evidencegw/evidencegw/exhibit"
)

// Timeouts of the HTTP server.
const (
	// readHeaderTimeout bounds how long a client may take to complete its TLS
	// handshake (net/http applies it there too) and to send its headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes keep-alive connections left idle. Bodies have no overall
	// deadline (an upload or download of tens of GB may take hours), only the idle
	// timeout of Config.BodyIdleTimeout (idle.go).
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds a request's headers.
	maxHeaderBytes = 64 << 10
	// opsTimeout bounds a whole request and response of the operations listener,
	// which takes no body and answers small documents.
	opsTimeout = 30 * time.Second
)

// Config wires a Server.
type Config struct {
	// Exhibits runs the use cases.
	Exhibits *exhibit.Service
	// Auth maps client certificates to principals.
	Auth *Authenticator
	// MaxUploadBytes caps one upload body; 0 means no cap. An upload that declares a
	// larger Content-Length is refused before a byte of it is read (and so before
	// any 100 Continue).
	MaxUploadBytes int64
	// BodyIdleTimeout cuts a request body that moves no byte for this long (408)
	// and a response whose client reads nothing for this long; 0 means never.
	BodyIdleTimeout time.Duration
	// MemberUploads caps the uploads one member (agency and person) may have in
	// flight at once (429 beyond); 0 means no cap.
	MemberUploads int
	// MaxUploads caps the uploads in flight in the whole gateway, each holding a
	// few MiB of buffers: one more waits for a slot, up to 30 s, then gets 503;
	// 0 means no cap.
	MaxUploads int
	// MemberRate is the sustained requests per second of one member, MemberBurst
	// the size of its token bucket (default: MemberRate rounded up); 429 beyond.
	// MemberRate 0 means no limit.
	MemberRate  float64
	MemberBurst int
	Logger      *slog.Logger
	// Registry receives the HTTP metrics, served at /metrics by OpsHandler (never on
	// the API); a new one if nil.
	Registry *prometheus.Registry
	// Ready reports whether the backends are reachable, for /readyz; always ready if nil.
	Ready func(ctx context.Context) error
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Step, if set, is called with StepAnswering when a change (a POST) succeeded and
	// its answer is about to be written, for fault-injection tests; nil in production.
	Step func(step string)
}

// StepAnswering is the step before a successful answer is written: the change is done,
// the client does not know it yet.
const StepAnswering = "answering"

// Server serves the gateway API.
type Server struct {
	cfg     Config
	metrics *metrics
	limits  *memberLimits
	slots   *uploadSlots
	router  *mux.Router
	tusd    *tusd.UnroutedHandler
}

// New returns the gateway's server.
func New(cfg Config) (*Server, error) {
	if cfg.Exhibits == nil || cfg.Auth == nil {
		return nil, errors.New("gateway: exhibits and auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	if cfg.MaxUploadBytes < 0 || cfg.BodyIdleTimeout < 0 || cfg.MemberUploads < 0 || cfg.MaxUploads < 0 || cfg.MemberRate < 0 || cfg.MemberBurst < 0 {
		return nil, errors.New("gateway: limits must not be negative")
	}
	s := &Server{cfg: cfg, metrics: m, limits: newMemberLimits(cfg, m), slots: newUploadSlots(cfg.MaxUploads, m)}
	if s.tusd, err = s.newTus(); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	s.router = s.routes()
	return s, nil
}

// Handler returns the routed, authenticated handler.
func (s *Server) Handler() http.Handler {
	return s.authenticate(s.router)
}

// NewHTTPServer returns an http.Server for the handler on addr, with the gateway's
// timeouts and bounds.
func (s *Server) NewHTTPServer(addr string) *http.Server {
	hs := &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
		ConnState:         s.countConn,
	}
	hs.HTTP2 = http2Config(s.cfg.BodyIdleTimeout)
	return hs
}

// http2Config returns the server's HTTP/2 settings.
//
// An upload stream can have no more bytes in flight than its receive window: at Go's
// default of 1 MiB, an exhibit sent over a 100 ms link between countries moves at 10 MB/s
// at most (BenchmarkUploadOverLatency). 4 MiB allows 40 MB/s there; the cost is what a
// connection can make the gateway hold while a handler does not read, 8 MiB at most.
func http2Config(bodyIdle time.Duration) *http.HTTP2Config {
	c := &http.HTTP2Config{MaxReceiveBufferPerStream: 4 << 20, MaxReceiveBufferPerConnection: 8 << 20}
	if bodyIdle > 0 {
		// An HTTP/2 connection whose peer takes no byte of what is due to it: the
		// connection-wide form of the per-write deadlines of idle.go.
		c.WriteByteTimeout = bodyIdle
	}
	return c
}

// countConn keeps the open-connections gauge.
func (s *Server) countConn(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.metrics.connections.Inc()
	case http.StateClosed, http.StateHijacked:
		s.metrics.connections.Dec()
	}
}

// routes maps every endpoint to its handler.
func (s *Server) routes() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = s.fail(errNoRoute)
	r.MethodNotAllowedHandler = s.fail(errMethodNotAllowed)
	// The probes stay on the API for clients that check it; /metrics is only on the
	// operations listener (OpsHandler): agency-wide counters are not a member's to read.
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	// The /v1 routes hang on r itself, not on a PathPrefix subrouter: a subrouter's
	// routes share its prefix matcher, and when a later route matches that prefix
	// gorilla/mux forgets the method mismatch of an earlier one and answers 404
	// where 405 is due.
	v1 := prefixed{r, "/v1"}
	v1.HandleFunc("/whoami", s.api(s.whoami)).Methods(http.MethodGet)
	v1.HandleFunc("/trust-root", s.api(s.trustRoot)).Methods(http.MethodGet)
	v1.HandleFunc("/trust-root/chain", s.api(s.trustRootChain)).Methods(http.MethodGet)
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
	// Resumable uploads (tus.go).
	v1.HandleFunc("/uploads", s.api(s.tus(s.tusd.PostFile, true))).Methods(http.MethodPost)
	v1.HandleFunc("/uploads", s.api(s.tus(s.tusd.PostFile, false))).Methods(http.MethodOptions)
	v1.HandleFunc("/uploads/{id}", s.api(s.tus(s.tusd.HeadFile, false))).Methods(http.MethodHead)
	v1.HandleFunc("/uploads/{id}", s.api(s.tus(s.tusd.PatchFile, true))).Methods(http.MethodPatch)
	v1.HandleFunc("/uploads/{id}", s.api(s.tus(s.tusd.DelFile, false))).Methods(http.MethodDelete)
	v1.HandleFunc("/uploads/{id}/register", s.api(s.registerUpload)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/received", s.api(s.received)).Methods(http.MethodPost)
	v1.HandleFunc("/evidence/{id}/dispose", s.api(s.dispose)).Methods(http.MethodPost)
	s.exchangeRoutes(v1)
	return r
}

// prefixed registers routes on a router under a path prefix.
type prefixed struct {
	r      *mux.Router
	prefix string
}

func (p prefixed) HandleFunc(path string, f http.HandlerFunc) *mux.Route {
	return p.r.HandleFunc(p.prefix+path, f)
}

type principalKey struct{}

// authenticate maps the client certificate to a principal before any handler runs.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.cfg.Auth.Identify(r.TLS, s.cfg.Now())
		if err != nil {
			s.metrics.unauthenticated.Inc()
			s.cfg.Logger.WarnContext(r.Context(), "request refused: client certificate", "audit", true,
				"subject", subjectOf(r), "path", r.URL.Path, "reason", err.Error())
			s.writeError(w, r, &authError{err})
			return
		}
		if lerr := s.limits.allowRequest(r.Context(), p, s.cfg.Now()); lerr != nil {
			s.writeError(w, r, refuse(w, lerr))
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
type handlerFunc func(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error

// api adapts a handlerFunc: metrics, access log, error mapping.
func (s *Server) api(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		p, _ := r.Context().Value(principalKey{}).(exhibit.Principal)
		route := "unknown"
		if cr := mux.CurrentRoute(r); cr != nil {
			route, _ = cr.GetPathTemplate()
		}
		sw := &statusWriter{ResponseWriter: w}
		if r.Method == http.MethodPost || r.Method == http.MethodPatch {
			sw.step = s.cfg.Step // the answer of a change
		}
		body := s.watchBody(sw, r)
		err := withAct(r, &p)
		if err == nil {
			err = h(sw, r, p)
		}
		if err != nil && body.cutErr() != nil {
			// The read failed for idleness; what the use case made of it (often a
			// cancelled context: net/http cancels the request's once its connection
			// fails) is only a consequence.
			err = fmt.Errorf("%w (%v)", body.cutErr(), err)
		}
		if err != nil {
			if sw.status != 0 {
				// Headers are gone: the only honest signal left is to break the stream.
				if clientGone(r, err) {
					s.cfg.Logger.InfoContext(r.Context(), "response cut: the client went away", "route", route, "err", err)
				} else {
					s.cfg.Logger.ErrorContext(r.Context(), "response aborted", "route", route, "err", err)
				}
				panic(http.ErrAbortHandler)
			}
			s.writeError(sw, r, err)
		}
		s.metrics.requests.WithLabelValues(r.Method, route, statusClass(sw.code())).Inc()
		s.cfg.Logger.InfoContext(r.Context(), "request", "method", r.Method, "route", route, "status", sw.code(),
			"principal", p, "duration_ms", time.Since(start).Milliseconds())
	}
}

// fail answers every request with err, through the one error mapping.
func (s *Server) fail(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.writeError(w, r, err) })
}

type statusWriter struct {
	http.ResponseWriter
	status int
	// step, if set, hears StepAnswering before a success status is written.
	step func(string)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if w.step != nil && code < http.StatusBadRequest {
			w.step(StepAnswering)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			s.cfg.Logger.WarnContext(r.Context(), "not ready", "err", err)
			s.writeError(w, r, errNotReady)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// clientGone reports whether err, met while writing an answer, is the client's leaving
// (a closed or reset connection, a cancelled request), not the gateway's failure.
func clientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil || errors.Is(err, context.Canceled) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
