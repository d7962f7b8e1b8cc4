package gateway

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests      *prometheus.CounterVec
	denials       *prometheus.CounterVec
	events        *prometheus.CounterVec
	bytesIn       prometheus.Counter
	bytesOut      prometheus.Counter
	integrityFail prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_http_requests_total", Help: "API requests by method, route and status class.",
		}, []string{"method", "route", "status"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_denials_total", Help: "Requests refused by authentication or policy, by action.",
		}, []string{"action"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_custody_events_total", Help: "Custody events recorded, by action.",
		}, []string{"action"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_upload_bytes_total", Help: "Plaintext evidence bytes stored.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_download_bytes_total", Help: "Plaintext evidence bytes served.",
		}),
		integrityFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_integrity_failures_total", Help: "Stored evidence that failed its integrity check.",
		}),
	}
	reg.MustRegister(m.requests, m.denials, m.events, m.bytesIn, m.bytesOut, m.integrityFail)
	return m
}

func statusClass(code int) string { return strconv.Itoa(code/100) + "xx" }
