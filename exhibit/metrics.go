package exhibit

import "github.com/prometheus/client_golang/prometheus"

// metrics are the custody counters: events recorded, denials, integrity failures and
// the evidence bytes stored and served.
type metrics struct {
	events        *prometheus.CounterVec
	denials       *prometheus.CounterVec
	integrityFail prometheus.Counter
	chainDamage   prometheus.Counter
	orphans       prometheus.Counter
	bytesIn       prometheus.Counter
	bytesOut      prometheus.Counter
	// uploadSessions counts resumable upload sessions by what became of them.
	uploadSessions *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_custody_events_total", Help: "Custody events recorded, by action.",
		}, []string{"action"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_denials_total", Help: "Requests refused by policy, by action.",
		}, []string{"action"}),
		integrityFail: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_integrity_failures_total", Help: "Integrity failures recorded: stored content or custody events that failed their checks.",
		}),
		chainDamage: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_custody_chain_damage_total", Help: "Custody chains found altered, cut or forged in the store (alert on any).",
		}),
		orphans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_orphans_quarantined_total", Help: "Uploads found stopped before their registration, and quarantined.",
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_upload_bytes_total", Help: "Plaintext evidence bytes stored.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "evidencegw_download_bytes_total", Help: "Plaintext evidence bytes served.",
		}),
		uploadSessions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "evidencegw_upload_sessions_total", Help: "Resumable upload sessions, by event: started, registered, digest-mismatch, cancelled, expired.",
		}, []string{"event"}),
	}
	for _, c := range []prometheus.Collector{m.events, m.denials, m.integrityFail, m.chainDamage, m.orphans, m.bytesIn, m.bytesOut, m.uploadSessions} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
