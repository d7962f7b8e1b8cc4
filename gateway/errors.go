package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/gorilla/mux"
)

// witnessRetryAfter is the Retry-After of a change the witnesses did not cosign: a
// round of witnessing takes seconds.
const witnessRetryAfter = 5 * time.Second

// Errors of the HTTP layer itself; the use cases' errors are the exhibit package's.
var (
	errNoRoute          = errors.New("no such endpoint")
	errMethodNotAllowed = errors.New("method not allowed")
	errNotReady         = errors.New("a backend is unavailable")
)

// badRequest is a malformed request (a header, a query parameter, a JSON body); msg is
// safe to show.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// authError is a client certificate the gateway refused; its text is safe to show.
type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }

// problemFor maps err to a problem: 4xx with a precise detail, 5xx with a generic one
// (the details go to the log only). Every answer that is not a success goes through it.
func (s *Server) problemFor(ctx context.Context, err error) api.Problem {
	var (
		br         *badRequest
		ae         *authError
		inv        *exhibit.InvalidError
		conflict   *exhibit.ConflictError
		frozen     *exhibit.FrozenError
		denied     *exhibit.DeniedError
		tooBig     *http.MaxBytesError
		body       *bodyError
		idle       *idleError
		limited    *limitError
		reused     *exhibit.IdempotencyMismatchError
		tusErr     *tusError
		rng        *exhibit.RangeError
		act        *exhibit.ActError
		disposed   *exhibit.DisposedError
		unfinished *exhibit.DisposalUnfinishedError
	)
	switch {
	case errors.As(err, &ae):
		return api.NewProblem(api.ProblemUnauthenticated, http.StatusUnauthorized, ae.Error())
	case errors.As(err, &br):
		return api.NewProblem(api.ProblemInvalidRequest, http.StatusBadRequest, br.msg)
	case errors.As(err, &inv):
		return api.NewProblem(api.ProblemInvalidRequest, http.StatusBadRequest, inv.Msg)
	case errors.Is(err, exhibit.ErrActRequired):
		return api.NewProblem(api.ProblemActRequired, http.StatusBadRequest, exhibit.ErrActRequired.Error())
	case errors.As(err, &act):
		return api.NewProblem(api.ProblemActRefused, http.StatusUnprocessableEntity, act.Msg)
	case errors.Is(err, errNoRoute):
		return api.NewProblem(api.ProblemNotFound, http.StatusNotFound, "no such endpoint")
	case errors.Is(err, errMethodNotAllowed):
		return api.NewProblem(api.ProblemMethodNotAllowed, http.StatusMethodNotAllowed, "this endpoint does not take that method")
	case errors.Is(err, exhibit.ErrNotFound):
		return api.NewProblem(api.ProblemNotFound, http.StatusNotFound, "no such evidence")
	case errors.Is(err, exhibit.ErrUploadNotFound):
		return api.NewProblem(api.ProblemNotFound, http.StatusNotFound, "no such upload")
	case errors.As(err, &tusErr):
		if tusErr.status >= http.StatusInternalServerError {
			s.cfg.Logger.ErrorContext(ctx, "upload protocol error", "err", err)
		}
		return tusProblem(tusErr)
	case errors.As(err, &rng):
		return api.NewProblem(api.ProblemRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable, rng.Error())
	case errors.Is(err, exhibit.ErrGrantNotFound):
		return api.NewProblem(api.ProblemNotFound, http.StatusNotFound, "no such grant")
	case errors.Is(err, exhibit.ErrRequestNotFound):
		return api.NewProblem(api.ProblemNotFound, http.StatusNotFound, "no such request")
	case errors.Is(err, exhibit.ErrCaseNotFound):
		return api.NewProblem(api.ProblemNotFound, http.StatusNotFound, "no such case")
	case errors.Is(err, exhibit.ErrNoCatalog):
		return api.NewProblem(api.ProblemNotImplemented, http.StatusNotImplemented, "this gateway keeps no catalog: listings are off")
	case errors.As(err, &denied):
		return api.NewProblem(api.ProblemForbidden, http.StatusForbidden, denied.Reason)
	case errors.As(err, &disposed):
		return api.NewProblem(api.ProblemDisposed, http.StatusGone, disposed.Error())
	case errors.As(err, &unfinished) && errors.Is(err, exhibit.ErrRetained):
		return api.NewProblem(api.ProblemRetained, http.StatusConflict, fmt.Sprintf(
			"the disposal is recorded in custody event %d, but the object store refuses to destroy the evidence before its own retention ends: run the disposal again later to finish it", unfinished.Seq))
	case errors.As(err, &unfinished):
		s.cfg.Logger.ErrorContext(ctx, "disposal recorded but not finished", "err", err)
		return api.NewProblem(api.ProblemInternal, http.StatusInternalServerError, fmt.Sprintf(
			"the disposal is recorded in custody event %d, but destroying the evidence failed; run the disposal again to finish it", unfinished.Seq))
	case errors.As(err, &frozen):
		return api.NewProblem(api.ProblemExhibitFrozen, http.StatusConflict, frozen.Error())
	case errors.As(err, &conflict):
		return api.NewProblem(conflict.Kind, http.StatusConflict, conflict.Msg)
	case errors.Is(err, exhibit.ErrConflict):
		return api.NewProblem(api.ProblemConflict, http.StatusConflict, "the custody chain changed concurrently; retry")
	case errors.As(err, &reused):
		return api.NewProblem(api.ProblemIdempotencyReused, http.StatusUnprocessableEntity, reused.Error())
	case errors.Is(err, exhibit.ErrIdempotencyInProgress):
		return api.NewProblem(api.ProblemIdempotencyBusy, http.StatusConflict,
			"an upload with this Idempotency-Key is in progress; retry once it has ended to get its answer")
	case errors.Is(err, exhibit.ErrDigestMismatch):
		return api.NewProblem(api.ProblemDigestMismatch, http.StatusUnprocessableEntity,
			"the uploaded content does not match its Content-Digest; nothing was stored")
	case errors.As(err, &idle):
		return api.NewProblem(api.ProblemRequestTimeout, http.StatusRequestTimeout,
			fmt.Sprintf("%s: the request was cut and nothing of it was stored", idle.Error()))
	case errors.As(err, &limited) && limited.limit == limitGatewayUploads:
		return api.NewProblem(api.ProblemUnavailable, http.StatusServiceUnavailable,
			fmt.Sprintf("the gateway has %g uploads in flight, as many as it takes; retry after Retry-After seconds", limited.max))
	case errors.As(err, &limited) && limited.limit == limitUploads:
		return api.NewProblem(api.ProblemTooManyUploads, http.StatusTooManyRequests,
			fmt.Sprintf("this member already has %g uploads in flight; retry after Retry-After seconds", limited.max))
	case errors.As(err, &limited):
		return api.NewProblem(api.ProblemRateLimited, http.StatusTooManyRequests,
			fmt.Sprintf("this member sends more than %g requests per second; retry after Retry-After seconds", limited.max))
	case errors.As(err, &tooBig):
		return api.NewProblem(api.ProblemTooLarge, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("the body exceeds the limit of %d bytes", tooBig.Limit))
	case errors.As(err, &body) && errors.Is(body, io.ErrUnexpectedEOF):
		return api.NewProblem(api.ProblemInvalidRequest, http.StatusBadRequest,
			"the body ended before its Content-Length: nothing was stored")
	case errors.Is(err, errors.ErrUnsupported):
		return api.NewProblem(api.ProblemNotImplemented, http.StatusNotImplemented, "this gateway's store does not take resumable uploads")
	case errors.Is(err, exhibit.ErrNotImplemented):
		return api.NewProblem(api.ProblemNotImplemented, http.StatusNotImplemented, "this log backend does not serve its leaves")
	case errors.Is(err, exhibit.ErrCatalogUnavailable):
		s.cfg.Logger.ErrorContext(ctx, "catalog unavailable", "err", err)
		return api.NewProblem(api.ProblemCatalogUnavailable, http.StatusServiceUnavailable,
			"the catalog is unavailable; nothing was recorded; retry later")
	case errors.Is(err, exhibit.ErrKeysUnavailable):
		s.cfg.Logger.ErrorContext(ctx, "key manager unavailable", "err", err)
		return api.NewProblem(api.ProblemUnavailable, http.StatusServiceUnavailable, "the key manager is unavailable; retry later")
	case errors.Is(err, exhibit.ErrLogDamaged):
		s.cfg.Logger.ErrorContext(ctx, "custody log damaged: refusing custody changes", "alert", true, "err", err)
		return api.NewProblem(api.ProblemLogDamaged, http.StatusServiceUnavailable,
			"the custody log is damaged and signs nothing until the operator repairs it; nothing was recorded")
	case errors.Is(err, exhibit.ErrWitnessQuorum):
		var qerr *exhibit.WitnessQuorumError
		if errors.As(err, &qerr) && qerr.Refused() {
			s.cfg.Logger.ErrorContext(ctx, "witnesses refused the custody log's checkpoint: a fork or a rollback", "alert", true, "err", err)
		} else {
			s.cfg.Logger.WarnContext(ctx, "witness quorum not met", "err", err)
		}
		return api.NewProblem(api.ProblemWitnessQuorum, http.StatusServiceUnavailable,
			"the independent witnesses did not cosign the custody log's checkpoint, so the change does not count yet; retry after Retry-After seconds")
	case errors.Is(err, errNotReady):
		return api.NewProblem(api.ProblemUnavailable, http.StatusServiceUnavailable, "a backend is unavailable")
	case errors.Is(err, exhibit.ErrIntegrity):
		s.cfg.Logger.ErrorContext(ctx, "stored evidence failed its integrity check", "err", err)
		return api.NewProblem(api.ProblemIntegrityFailure, http.StatusInternalServerError,
			"the stored evidence failed its integrity check; none of what failed was sent, and the failure was recorded in custody")
	case errors.Is(err, context.Canceled):
		return api.Problem{Type: api.ProblemBase + api.ProblemCancelled, Title: "Client Closed Request", Status: 499, Detail: "request cancelled"}
	}
	s.cfg.Logger.ErrorContext(ctx, "request failed", "err", err)
	return api.NewProblem(api.ProblemInternal, http.StatusInternalServerError, "internal error; see the gateway log")
}

// writeError answers with the problem of err.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problemFor(r.Context(), err)
	if p.Status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", s.allowedMethods(r))
	}
	if p.Kind() == api.ProblemWitnessQuorum {
		w.Header().Set("Retry-After", retryAfterSeconds(witnessRetryAfter))
	}
	w.Header().Set("Content-Type", api.ProblemMediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.JSONMediaType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// allowedMethods lists the methods the route of r answers, for the Allow header of a
// 405 (RFC 9110 section 15.5.6).
func (s *Server) allowedMethods(r *http.Request) string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		var match mux.RouteMatch
		rm := r.Clone(r.Context())
		rm.Method = m
		if s.router.Match(rm, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}
