package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/evidencegw/evidencegw/exhibit"
)

// Per-member limits: a token bucket of requests and a count of uploads in flight for
// each member (agency and person), kept while the member is active.
const (
	// memberIdleEviction is how long a member's limiter is kept after its last
	// request with no upload in flight. Its bucket has long refilled by then, so
	// forgetting it forgets nothing; it bounds the memory to the recently active
	// members.
	memberIdleEviction = 10 * time.Minute
	// sweepInterval is how often, at most, the idle limiters are looked for.
	sweepInterval = time.Minute
	// refusalLogInterval is the least time between two log lines about one member's
	// refusals: the first refusal is logged, the next ones are counted into the
	// following line, so a client that hammers a limit cannot flood the log.
	refusalLogInterval = time.Minute
	// uploadRetryAfter is the Retry-After of a refused upload: an upload in flight
	// ends at an unknown time, so it is a suggestion, not a promise.
	uploadRetryAfter = 30 * time.Second
	// uploadSlotWait bounds how long an upload waits for one of the gateway's
	// Config.MaxUploads slots before it is refused (503). While it waits it holds its
	// connection and its member's upload count, but none of the buffers of an upload
	// in flight, and nothing of its body is read.
	uploadSlotWait = 30 * time.Second
)

// Names of the limits, in metrics, logs and problem details.
const (
	limitRequests       = "requests"        // a member's token bucket
	limitUploads        = "uploads"         // a member's uploads in flight
	limitGatewayUploads = "gateway-uploads" // the gateway's uploads in flight
)

// limitError is a request refused by a per-member limit; the client may retry after
// retryAfter.
type limitError struct {
	limit      string // limitRequests or limitUploads
	max        float64
	retryAfter time.Duration
}

func (e *limitError) Error() string {
	switch e.limit {
	case limitUploads:
		return fmt.Sprintf("more than %g uploads in flight", e.max)
	case limitGatewayUploads:
		return fmt.Sprintf("more than %g uploads in flight in the gateway", e.max)
	}
	return fmt.Sprintf("more than %g requests per second", e.max)
}

// retryAfterSeconds is the Retry-After value of d: whole seconds, at least 1
// (RFC 9110 section 10.2.3).
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// refuse sets the Retry-After header of a refusal and returns it as the error the
// one mapping turns into a 429.
// takeUpload takes one of p's uploads in flight and one of the gateway's, or answers
// why not (with Retry-After); release gives both back.
func (s *Server) takeUpload(w http.ResponseWriter, r *http.Request, p exhibit.Principal) (release func(), err error) {
	done, lerr := s.limits.startUpload(r.Context(), p, s.cfg.Now())
	if lerr != nil {
		return nil, refuse(w, lerr)
	}
	free, err := s.slots.take(r.Context())
	var full *limitError
	if errors.As(err, &full) {
		done()
		return nil, refuse(w, full)
	}
	if err != nil {
		done()
		return nil, err
	}
	s.metrics.uploads.Inc()
	return func() {
		s.metrics.uploads.Dec()
		free()
		done()
	}, nil
}

func refuse(w http.ResponseWriter, err *limitError) error {
	w.Header().Set("Retry-After", retryAfterSeconds(err.retryAfter))
	return err
}

type memberKey struct{ agency, person string }

// memberState is one member's limits.
type memberState struct {
	bucket   *rate.Limiter // nil when requests are not limited
	uploads  int
	lastSeen time.Time
	// lastLogged is when a refusal of this member was last logged; suppressed
	// counts the refusals since, not logged on their own.
	lastLogged time.Time
	suppressed int
}

// memberLimits holds the limiters of the members. Safe for concurrent use.
type memberLimits struct {
	rate    rate.Limit // 0: requests are not limited
	burst   int
	uploads int // 0: uploads are not limited
	logger  *slog.Logger
	metrics *metrics

	mu        sync.Mutex
	members   map[memberKey]*memberState
	lastSweep time.Time
}

func newMemberLimits(cfg Config, m *metrics) *memberLimits {
	burst := cfg.MemberBurst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(cfg.MemberRate)))
	}
	return &memberLimits{rate: rate.Limit(cfg.MemberRate), burst: burst, uploads: cfg.MemberUploads,
		logger: cfg.Logger, metrics: m, members: map[memberKey]*memberState{}}
}

// state returns p's state, creating it, and evicts idle members at most once per
// sweepInterval. The caller holds l.mu.
func (l *memberLimits) state(p exhibit.Principal, now time.Time) *memberState {
	if now.Sub(l.lastSweep) >= sweepInterval {
		l.lastSweep = now
		for k, st := range l.members {
			if st.uploads == 0 && now.Sub(st.lastSeen) >= memberIdleEviction {
				delete(l.members, k)
			}
		}
	}
	k := memberKey{p.Agency, p.Person}
	st := l.members[k]
	if st == nil {
		st = &memberState{}
		if l.rate > 0 {
			st.bucket = rate.NewLimiter(l.rate, l.burst)
		}
		l.members[k] = st
	}
	st.lastSeen = now
	return st
}

// allowRequest takes a token of p's bucket, or returns the refusal.
func (l *memberLimits) allowRequest(ctx context.Context, p exhibit.Principal, now time.Time) *limitError {
	if l.rate <= 0 {
		return nil
	}
	l.mu.Lock()
	st := l.state(p, now)
	r := st.bucket.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if r.OK() && d == 0 {
		l.mu.Unlock()
		return nil
	}
	r.CancelAt(now)
	err := &limitError{limit: limitRequests, max: float64(l.rate), retryAfter: d}
	log, suppressed := l.refused(st, err, now)
	l.mu.Unlock()
	l.logRefusal(ctx, log, p, err, suppressed)
	return err
}

// startUpload counts an upload of p in flight, or returns the refusal; done ends it.
func (l *memberLimits) startUpload(ctx context.Context, p exhibit.Principal, now time.Time) (done func(), _ *limitError) {
	if l.uploads <= 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	st := l.state(p, now)
	if st.uploads >= l.uploads {
		err := &limitError{limit: limitUploads, max: float64(l.uploads), retryAfter: uploadRetryAfter}
		log, suppressed := l.refused(st, err, now)
		l.mu.Unlock()
		l.logRefusal(ctx, log, p, err, suppressed)
		return nil, err
	}
	st.uploads++
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			st.uploads--
		})
	}, nil
}

// refused counts a refusal and says whether to log it: at most once per
// refusalLogInterval and member, with the number of refusals since the last line.
// The caller holds l.mu.
func (l *memberLimits) refused(st *memberState, err *limitError, now time.Time) (log bool, suppressed int) {
	l.metrics.limited(err.limit)
	if !st.lastLogged.IsZero() && now.Sub(st.lastLogged) < refusalLogInterval {
		st.suppressed++
		return false, 0
	}
	suppressed = st.suppressed
	st.lastLogged, st.suppressed = now, 0
	return true, suppressed
}

// logRefusal logs a refusal that refused chose to log.
func (l *memberLimits) logRefusal(ctx context.Context, log bool, p exhibit.Principal, err *limitError, suppressed int) {
	if !log {
		return
	}
	l.logger.WarnContext(ctx, "request refused: per-member limit", "audit", true, "agency", p.Agency, "person", p.Person,
		"limit", err.limit, "max", err.max, "retry_after_s", retryAfterSeconds(err.retryAfter),
		"refused_since_last_line", suppressed)
}

// size returns how many members have a limiter, for tests.
func (l *memberLimits) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.members)
}

// uploadSlots bounds the uploads in flight in the whole gateway: each one holds a few
// MiB of buffers (sealing, encryption, the store's copy or part buffers) whatever its
// speed, so their number bounds the gateway's memory. An upload waits for a slot in
// arrival order, for at most its wait bound. Safe for concurrent use.
type uploadSlots struct {
	slots   chan struct{} // nil: no bound
	wait    time.Duration
	metrics *metrics
}

func newUploadSlots(n int, m *metrics) *uploadSlots {
	s := &uploadSlots{wait: uploadSlotWait, metrics: m}
	if n > 0 {
		s.slots = make(chan struct{}, n)
	}
	return s
}

// take waits for a slot; release frees it. It fails when ctx ends or no slot frees up
// within the wait bound.
func (s *uploadSlots) take(ctx context.Context) (release func(), _ error) {
	if s.slots == nil {
		return func() {}, nil
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.metrics.waiting.Inc()
		defer s.metrics.waiting.Dec()
		t := time.NewTimer(s.wait)
		defer t.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-t.C:
			s.metrics.limited(limitGatewayUploads)
			return nil, &limitError{limit: limitGatewayUploads, max: float64(cap(s.slots)), retryAfter: uploadRetryAfter}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() { once.Do(func() { <-s.slots }) }, nil
}
