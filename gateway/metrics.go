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
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_http_requests_total", Help: "API requests by method, route and status class.",
		}, []string{"method", "route", "status"}),
		unauthenticated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_unauthenticated_total", Help: "Requests refused because of their client certificate.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.unauthenticated} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func statusClass(code int) string { return strconv.Itoa(code/100) + "xx" }
