package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// problemBase prefixes the "type" URI of every problem the gateway reports.
const problemBase = "https://github.com/evidencegw/evidencegw/blob/main/docs/api.md#"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Errors that handlers return and httpError maps to statuses.
var (
	// errNotFound hides both absent evidence and evidence the caller may not see.
	errNotFound  = errors.New("no such evidence")
	errGrantGone = errors.New("no such grant")
)

// badRequest is a client error with a precise message safe to show.
type badRequest struct {
	status int // 400 unless set
	kind   string
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func invalid(format string, args ...any) error {
	return &badRequest{kind: "invalid-request", msg: fmt.Sprintf(format, args...)}
}

// denied is an authorization refusal for a caller that may know the evidence exists.
type denied struct {
	action   string
	policies []string
	reason   string
}

func (e *denied) Error() string { return e.reason }

// httpError maps err to a problem: 4xx with a precise detail, 5xx with a generic one
// (the details go to the log only).
func httpError(ctx context.Context, log *slog.Logger, err error) Problem {
	var br *badRequest
	var dn *denied
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &br):
		st := br.status
		if st == 0 {
			st = http.StatusBadRequest
		}
		return Problem{Type: problemBase + br.kind, Title: http.StatusText(st), Status: st, Detail: br.msg}
	case errors.Is(err, errNotFound), errors.Is(err, ledger.ErrNotFound):
		return Problem{Type: problemBase + "not-found", Title: "Not Found", Status: 404, Detail: "no such evidence"}
	case errors.Is(err, errGrantGone):
		return Problem{Type: problemBase + "not-found", Title: "Not Found", Status: 404, Detail: "no such grant"}
	case errors.As(err, &dn):
		return Problem{Type: problemBase + "forbidden", Title: "Forbidden", Status: 403, Detail: dn.reason}
	case errors.Is(err, storage.ErrDigestMismatch):
		return Problem{Type: problemBase + "digest-mismatch", Title: "Unprocessable Content", Status: 422,
			Detail: "the uploaded content does not match its Content-Digest; nothing was stored"}
	case errors.As(err, &tooBig):
		return Problem{Type: problemBase + "too-large", Title: "Content Too Large", Status: 413,
			Detail: fmt.Sprintf("the body exceeds the limit of %d bytes", tooBig.Limit)}
	case errors.Is(err, ledger.ErrConflict):
		return Problem{Type: problemBase + "conflict", Title: "Conflict", Status: 409, Detail: "the custody chain changed concurrently; retry"}
	case errors.Is(err, keys.ErrUnavailable):
		log.ErrorContext(ctx, "key manager unavailable", "err", err)
		return Problem{Type: problemBase + "unavailable", Title: "Service Unavailable", Status: 503,
			Detail: "the key manager is unavailable; retry later"}
	case errors.Is(err, storage.ErrIntegrity):
		log.ErrorContext(ctx, "stored evidence failed its integrity check", "err", err)
		return Problem{Type: problemBase + "integrity-failure", Title: "Internal Server Error", Status: 500,
			Detail: "the stored evidence failed its integrity check; no content was returned and the failure was recorded in custody"}
	case errors.Is(err, context.Canceled):
		return Problem{Type: problemBase + "cancelled", Title: "Client Closed Request", Status: 499, Detail: "request cancelled"}
	}
	log.ErrorContext(ctx, "request failed", "err", err)
	return Problem{Type: problemBase + "internal", Title: "Internal Server Error", Status: 500, Detail: "internal error; see the gateway log"}
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
