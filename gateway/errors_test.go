package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
)

// TestProblemFor feeds the one error mapping every error the use cases and the HTTP
// layer return, wrapped as they arrive, and checks the status and problem type; 4xx
// details are precise, 5xx details are generic and the internal text goes only to
// the log.
func TestProblemFor(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	// secret stands for internal text (object names, key references, hosts) that must
	// not reach a client in a 5xx answer.
	const secret = "s3://evidence-nl/content/NL/ev-x/sealed vault:transit/kek-nl"
	wrap := func(err error) error { return fmt.Errorf("reading %s: %w", secret, err) }
	tests := []struct {
		name       string
		err        error
		status     int
		kind       string
		wantDetail string // for 4xx: the detail, or a part of it
	}{
		{"invalid input", &exhibit.InvalidError{Msg: "case_id must be 1 to 64 letters"}, 400, api.ProblemInvalidRequest, "case_id must be 1 to 64 letters"},
		{"wrapped invalid input", fmt.Errorf("sharing: %w", &exhibit.InvalidError{Msg: "unknown agency"}), 400, api.ProblemInvalidRequest, "unknown agency"},
		{"bad request", malformed("query parameter %s must be a non-negative integer", "from"), 400, api.ProblemInvalidRequest, "query parameter from"},
		{"body ended early", wrap(&bodyError{io.ErrUnexpectedEOF}), 400, api.ProblemInvalidRequest, "before its Content-Length"},
		{"store read ended early", wrap(io.ErrUnexpectedEOF), 500, api.ProblemInternal, ""},
		{"certificate refused", &authError{errCertRefused}, 401, api.ProblemUnauthenticated, "client certificate refused"},
		{"denied", &exhibit.DeniedError{Action: "share", Reason: "share is not permitted: no policy allows it"}, 403, api.ProblemForbidden, "no policy allows it"},
		{"not found", wrap(exhibit.ErrNotFound), 404, api.ProblemNotFound, "no such evidence"},
		{"grant not found", exhibit.ErrGrantNotFound, 404, api.ProblemNotFound, "no such grant"},
		{"no route", errNoRoute, 404, api.ProblemNotFound, "no such endpoint"},
		{"method", errMethodNotAllowed, 405, api.ProblemMethodNotAllowed, "does not take that method"},
		{"already revoked", &exhibit.ConflictError{Kind: exhibit.ConflictAlreadyRevoked, Msg: "the grant is already revoked"}, 409, api.ProblemAlreadyRevoked, "already revoked"},
		{"not acceptable", &exhibit.ConflictError{Kind: exhibit.ConflictGrantNotAcceptable, Msg: "not an active, unaccepted grant"}, 409, api.ProblemGrantNotAcceptable, "unaccepted"},
		{"hold state", &exhibit.ConflictError{Kind: exhibit.ConflictHoldState, Msg: "already under legal hold"}, 409, api.ProblemHoldState, "already under legal hold"},
		{"chain conflict", wrap(exhibit.ErrConflict), 409, api.ProblemConflict, "retry"},
		{"retained", &exhibit.ConflictError{Kind: exhibit.ConflictRetained, Msg: "retained until 2036-03-01T00:00:00Z"}, 409, api.ProblemRetained, "retained until 2036"},
		{"under legal hold", &exhibit.ConflictError{Kind: exhibit.ConflictUnderLegalHold, Msg: "the evidence is under legal hold"}, 409, api.ProblemUnderLegalHold, "under legal hold"},
		{"disposed", wrap(&exhibit.DisposedError{Seq: 7, Authority: "court order 17"}), 410, api.ProblemDisposed, "court order 17"},
		{"disposal the store refused", &exhibit.DisposalUnfinishedError{ID: "ev-x", Seq: 7, Err: wrap(exhibit.ErrRetained)}, 409, api.ProblemRetained, "custody event 7"},
		{"disposal that failed", &exhibit.DisposalUnfinishedError{ID: "ev-x", Seq: 7, Err: wrap(errors.New("disk full"))}, 500, api.ProblemInternal, ""},
		{"too large", wrap(&http.MaxBytesError{Limit: 65536}), 413, api.ProblemTooLarge, "65536"},
		{"upload too large", wrap(&bodyError{&http.MaxBytesError{Limit: 1 << 30}}), 413, api.ProblemTooLarge, "1073741824"},
		{"digest mismatch", wrap(exhibit.ErrDigestMismatch), 422, api.ProblemDigestMismatch, "nothing was stored"},
		{"idempotency key reused", wrap(&exhibit.IdempotencyMismatchError{EvidenceID: "ev-first"}), 422, api.ProblemIdempotencyReused, "evidence ev-first"},
		{"idempotency key busy", wrap(exhibit.ErrIdempotencyInProgress), 409, api.ProblemIdempotencyBusy, "in progress"},
		{"act required", wrap(exhibit.ErrActRequired), 400, api.ProblemActRequired, "Custody-Act"},
		{"act refused", wrap(&exhibit.ActError{Msg: "your act is refused: the act's certificate does not chain"}), 422, api.ProblemActRefused, "does not chain"},
		{"cancelled", wrap(context.Canceled), 499, api.ProblemCancelled, "cancelled"},
		{"integrity", wrap(exhibit.ErrIntegrity), 500, api.ProblemIntegrityFailure, ""},
		{"internal", wrap(errors.New("disk full")), 500, api.ProblemInternal, ""},
		{"deadline", wrap(context.DeadlineExceeded), 500, api.ProblemInternal, ""},
		{"not implemented", exhibit.ErrNotImplemented, 501, api.ProblemNotImplemented, ""},
		{"keys unavailable", wrap(exhibit.ErrKeysUnavailable), 503, api.ProblemUnavailable, ""},
		{"not ready", errNotReady, 503, api.ProblemUnavailable, ""},
		{"witness quorum", wrap(&exhibit.WitnessQuorumError{Size: 7, Refusals: []exhibit.WitnessRefusal{{Witness: "w1", Status: 409}}}), 503, api.ProblemWitnessQuorum, ""},
		{"witness quorum, unreachable", wrap(exhibit.ErrWitnessQuorum), 503, api.ProblemWitnessQuorum, ""},
		{"idle body", wrap(&bodyError{&idleError{time.Minute}}), 408, api.ProblemRequestTimeout, "no byte of the body moved for 1m0s"},
		{"too many requests", &limitError{limit: limitRequests, max: 20, retryAfter: time.Second}, 429, api.ProblemRateLimited, "more than 20 requests per second"},
		{"too many uploads", &limitError{limit: limitUploads, max: 4, retryAfter: time.Minute}, 429, api.ProblemTooManyUploads, "already has 4 uploads in flight"},
		{"gateway full", &limitError{limit: limitGatewayUploads, max: 16, retryAfter: time.Minute}, 503, api.ProblemUnavailable, ""},
	}
	for _, tt := range tests {
		p := ts.srv.problemFor(t.Context(), tt.err)
		if p.Status != tt.status || p.Type != api.ProblemBase+tt.kind || p.Kind() != tt.kind || p.Detail == "" {
			t.Errorf("%s: got %d %s, want %d %s with a detail", tt.name, p.Status, p.Type, tt.status, api.ProblemBase+tt.kind)
		}
		if wantTitle := http.StatusText(tt.status); wantTitle != "" && p.Title != wantTitle {
			t.Errorf("%s: got title %q, want %q", tt.name, p.Title, wantTitle)
		}
		if tt.status >= 500 {
			if strings.Contains(p.Detail, secret) || strings.Contains(p.Detail, "disk full") {
				t.Errorf("%s: the %d detail %q leaks internal text", tt.name, tt.status, p.Detail)
			}
		} else if !strings.Contains(p.Detail, tt.wantDetail) {
			t.Errorf("%s: got detail %q, want it to say %q", tt.name, p.Detail, tt.wantDetail)
		}
	}
	// The 5xx details are in the log, for the operator.
	logs := ts.logs.String()
	for _, want := range []string{"disk full", "key manager unavailable", "failed its integrity check"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// TestWriteError: a problem goes out with its media type, nosniff and, for a 405, the
// methods the route takes.
func TestWriteError(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{})
	rec := httptest.NewRecorder()
	ts.srv.writeError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodPut, "/v1/evidence", nil), errMethodNotAllowed)
	checkProblem(t, "405", rec, http.StatusMethodNotAllowed, api.ProblemMethodNotAllowed)
	if got := rec.Header().Get("Allow"); got != "POST" {
		t.Errorf("got Allow %q, want POST", got)
	}
	rec = httptest.NewRecorder()
	ts.srv.writeError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/whoami", nil), exhibit.ErrNotFound)
	checkProblem(t, "404", rec, http.StatusNotFound, api.ProblemNotFound)
	if got := rec.Header().Get("Allow"); got != "" {
		t.Errorf("a 404 carries Allow %q", got)
	}
}

// TestServiceErrorsOverHTTP: errors that only a failing backend produces reach the
// client through the mapping with the right status, and are not blamed on the client.
func TestServiceErrorsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, serverOptions{})
	f.env.FailAppend(func([]byte) error { return errors.New("log shard 7 unreachable at 10.0.0.12") })
	rec := f.do(t, &f.env.Investigator, http.MethodPost, "/v1/evidence/"+f.id+"/hold", "")
	p := checkProblem(t, "hold with the log down", rec, http.StatusInternalServerError, api.ProblemInternal)
	if strings.Contains(p.Detail, "10.0.0.12") {
		t.Errorf("the 500 detail %q shows the backend's error", p.Detail)
	}
	f.env.FailAppend(nil)

	// An object store whose read is cut short (an S3 response that ends early) is the
	// gateway's failure, not a client body shorter than its Content-Length.
	f.env.FailOpen(func(string) error { return io.ErrUnexpectedEOF })
	for _, path := range []string{"/v1/evidence/" + f.id, "/v1/evidence/" + f.id + "/content"} {
		rec = f.do(t, &f.env.Investigator, http.MethodGet, path, "")
		checkProblem(t, "GET "+path+" with store reads cut short", rec, http.StatusInternalServerError, api.ProblemInternal)
	}
}

// TestBackendProblemsOverHTTP: the statuses that only a backend's state produces.
func TestBackendProblemsOverHTTP(t *testing.T) {
	t.Parallel()
	unavailable := exhibittest.NewKeyManager()
	tests := []struct {
		name         string
		opts         serverOptions
		setup        func(f *fixture)
		method, path string
		ctx          func(context.Context) context.Context
		status       int
		kind         string
	}{
		{name: "a log that does not serve its leaves", method: "GET", path: "/v1/log/leaves?start=0&count=1&size=1",
			opts:   serverOptions{env: exhibittest.Options{WrapLog: exhibittest.HideLeaves}},
			status: http.StatusNotImplemented, kind: api.ProblemNotImplemented},
		{name: "a key manager that is down", method: "GET", path: "/v1/evidence/{id}/content",
			opts:   serverOptions{env: exhibittest.Options{DataKeys: unavailable}},
			setup:  func(*fixture) { unavailable.SetFail(func(string) error { return exhibit.ErrKeysUnavailable }) },
			status: http.StatusServiceUnavailable, kind: api.ProblemUnavailable},
		{name: "a chain that keeps changing", method: "POST", path: "/v1/evidence/{id}/hold",
			setup: func(f *fixture) {
				f.env.FailCreate(func(string) error { return exhibittest.ErrLostRace })
			},
			status: http.StatusConflict, kind: api.ProblemConflict},
		{name: "a client that went away", method: "GET", path: "/v1/evidence/{id}/events",
			ctx: func(ctx context.Context) context.Context {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return ctx
			},
			status: 499, kind: api.ProblemCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts)
			if tt.setup != nil {
				tt.setup(f)
			}
			r := request(t, &f.env.Investigator, tt.method, f.expand(tt.path), nil)
			if tt.ctx != nil {
				r = r.WithContext(tt.ctx(r.Context()))
			}
			rec := f.serve(r)
			if tt.status == 499 {
				// http.StatusText has no title for 499: check the rest by hand.
				var p api.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != 499 || p.Kind() != tt.kind {
					t.Errorf("got %d %s (%v), want 499 %s", rec.Code, rec.Body, err, tt.kind)
				}
				return
			}
			checkProblem(t, tt.name, rec, tt.status, tt.kind)
		})
	}
}
