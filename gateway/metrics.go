package gateway

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP layer's counters; the custody counters are the application
// layer's (package exhibit).
type metrics struct {
	requests        *prometheus.CounterVec
	unauthenticated prometheus.Counter
	limitedTotal    *prometheus.CounterVec
	idleCuts        *prometheus.CounterVec
	connections     prometheus.Gauge
	uploads         prometheus.Gauge
	waiting         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_http_requests_total", Help: "API requests by method, route and status class.",
		}, []string{"method", "route", "status"}),
		unauthenticated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_unauthenticated_total", Help: "Requests refused because of their client certificate.",
		}),
		limitedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_http_limited_total", Help: "Requests refused by a limit: a member's requests or uploads (429), the gateway's uploads (503).",
		}, []string{"limit"}),
		idleCuts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_http_idle_cut_total", Help: "Request bodies (request) and responses (response) cut because they moved no byte for the idle timeout.",
		}, []string{"direction"}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "evidencegw_http_connections", Help: "Open connections to the API listener, handshaking, idle or active.",
		}),
		uploads: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "evidencegw_http_uploads_in_flight", Help: "Evidence uploads being received.",
		}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "evidencegw_http_uploads_waiting", Help: "Evidence uploads waiting for one of the gateway's upload slots.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.unauthenticated, m.limitedTotal, m.idleCuts, m.connections, m.uploads, m.waiting} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) limited(limit string) { m.limitedTotal.WithLabelValues(limit).Inc() }

func statusClass(code int) string { return strconv.Itoa(code/100) + "xx" }
