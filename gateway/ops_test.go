package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/api"
)

// TestOpsHandler: the operations handler serves the metrics and the probes without a
// client certificate, and nothing of the API; the API serves no metrics (TestRoutes).
func TestOpsHandler(t *testing.T) {
	t.Parallel()
	var down bool
	ts := newTestServer(t, serverOptions{ready: func(context.Context) error {
		if down {
			return errReadyDown
		}
		return nil
	}})
	ops := ts.srv.OpsHandler()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		ops.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		return rec
	}
	ts.do(t, &ts.env.Partner, http.MethodGet, "/v1/whoami", "")
	rec := get("/metrics")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: got %d %q, want 200 text/plain", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{`evidencegw_http_requests_total{method="GET",route="/v1/whoami",status="2xx"} 1`,
		"evidencegw_http_connections 0", "evidencegw_http_uploads_in_flight 0"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if rec := get(path); rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != api.JSONMediaType {
			t.Errorf("%s: got %d %q, want 200 JSON", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	down = true
	checkProblem(t, "/readyz with a backend down", get("/readyz"), http.StatusServiceUnavailable, api.ProblemUnavailable)
	for _, path := range []string{"/v1/whoami", "/", "/metrics/x"} {
		checkProblem(t, path+" on the operations handler", get(path), http.StatusNotFound, api.ProblemNotFound)
	}
}
