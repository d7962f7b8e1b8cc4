package gateway

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// OpsHandler serves the operations endpoints, for probes and Prometheus, without
// authentication: /metrics (every counter of the registry, agency-wide), /healthz and
// /readyz. It belongs on a listener of its own that only the operator's network
// reaches (NewOpsServer), never on the API's: a member of an agency has no business
// reading another agency's counters.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("/", s.fail(errNoRoute))
	return mux
}

// NewOpsServer returns a plain-HTTP server of OpsHandler on addr, with the whole of
// each exchange bounded: the endpoints take no body and answer small documents.
func (s *Server) NewOpsServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.OpsHandler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       opsTimeout,
		WriteTimeout:      opsTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}
