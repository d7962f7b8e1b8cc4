package tesseralog

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"

	"github.com/evidencegw/evidencegw/ledger"
)

// errWitnessWait ends an append's wait for a cosigned checkpoint.
var errWitnessWait = errors.New("no cosigned checkpoint in time")

// witnessWait is how long an append waits for a cosigned checkpoint: one round of
// witnessing after the next batch and publication, and a second chance.
func (l *Log) witnessWait() time.Duration {
	return 2*(l.cfg.WitnessTimeout+checkpointInterval) + batchMaxAge
}

// witnessRecorder wraps the HTTP client Tessera asks the witnesses with, and keeps the
// last failure of each witness, so that an append that got no cosigned checkpoint can
// say why. Tessera's own witness client stays in charge of the protocol.
type witnessRecorder struct {
	client *http.Client

	names map[string]string // witness name by request URL

	mu   sync.Mutex
	last map[string]witnessAnswer // by request URL
}

type witnessAnswer struct {
	at     time.Time
	status int // 0: no answer
	detail string
}

func newWitnessRecorder(hc *http.Client, policy *tessera.WitnessGroup) *witnessRecorder {
	r := &witnessRecorder{last: map[string]witnessAnswer{}, names: map[string]string{}}
	if policy != nil {
		for url, v := range policy.Endpoints() {
			r.names[url] = v.Name()
		}
	}
	c := *hc
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		a := witnessAnswer{at: time.Now()}
		switch {
		case err != nil:
			a.detail = err.Error()
		case resp.StatusCode == http.StatusOK:
			r.forget(req.URL.String())
			return resp, nil
		default:
			a.status = resp.StatusCode
		}
		r.mu.Lock()
		r.last[req.URL.String()] = a
		r.mu.Unlock()
		return resp, err
	})
	r.client = &c
	return r
}

func (r *witnessRecorder) forget(url string) {
	r.mu.Lock()
	delete(r.last, url)
	r.mu.Unlock()
}

// quorumError describes the witnesses' failures since t.
func (r *witnessRecorder) quorumError(size uint64, since time.Time) *ledger.WitnessQuorumError {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := &ledger.WitnessQuorumError{Size: size}
	for url, a := range r.last {
		if a.at.Before(since) {
			continue
		}
		ref := ledger.WitnessRefusal{Witness: r.names[url], URL: url, Status: a.status, Detail: a.detail}
		if ref.Detail == "" {
			ref.Detail = http.StatusText(a.status)
		}
		e.Refusals = append(e.Refusals, ref)
	}
	return e
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
