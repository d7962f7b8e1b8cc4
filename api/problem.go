package api

import (
	"fmt"
	"net/http"
)

// ProblemBase prefixes the "type" URI of every problem the gateway reports; the
// fragment names the section of docs/api.md that explains it.
const ProblemBase = "https://github.com/evidencegw/evidencegw/blob/main/docs/api.md#"

// Problem types: the fragment of a Problem's Type after ProblemBase.
const (
	ProblemInvalidRequest     = "invalid-request"
	ProblemUnauthenticated    = "unauthenticated"
	ProblemForbidden          = "forbidden"
	ProblemNotFound           = "not-found"
	ProblemMethodNotAllowed   = "method-not-allowed"
	ProblemConflict           = "conflict"
	ProblemAlreadyRevoked     = "already-revoked"
	ProblemGrantNotAcceptable = "grant-not-acceptable"
	ProblemHoldState          = "hold-state"
	ProblemExhibitFrozen      = "exhibit-frozen"
	ProblemTooLarge           = "too-large"
	ProblemDigestMismatch     = "digest-mismatch"
	ProblemCancelled          = "cancelled"
	ProblemIntegrityFailure   = "integrity-failure"
	ProblemInternal           = "internal"
	ProblemNotImplemented     = "not-implemented"
	ProblemUnavailable        = "unavailable"
	ProblemLogDamaged         = "log-damaged"
	ProblemWitnessQuorum      = "witness-quorum"
	ProblemRequestTimeout     = "request-timeout"
	ProblemRateLimited        = "rate-limited"
	ProblemTooManyUploads     = "too-many-uploads"
	ProblemIdempotencyReused  = "idempotency-key-reused"
	ProblemIdempotencyBusy    = "idempotency-in-progress"
	ProblemUploadOffset       = "upload-offset"
	ProblemUploadIncomplete   = "upload-incomplete"
	ProblemUploadProtocol     = "upload-protocol"
	// ProblemRangeNotSatisfiable: a content request's Range does not lie within the
	// content, or asks for more than one range (416).
	ProblemRangeNotSatisfiable = "range-not-satisfiable"
	// ProblemTransferNotResumable: the Transfer-Id of a content request names no
	// transfer of the caller on this evidence, or one already delivered (409).
	ProblemTransferNotResumable = "transfer-not-resumable"
	ProblemActRequired          = "act-required"
	ProblemActRefused           = "act-refused"
	ProblemRequestClosed        = "request-closed"
	ProblemRequestState         = "request-state"
	ProblemCatalogUnavailable   = "catalog-unavailable"
	ProblemRetained             = "retained"
	ProblemUnderLegalHold       = "under-legal-hold"
	ProblemDisposed             = "disposed"
)

// Problem is an RFC 9457 problem details object: the body of every error response
// (Content-Type ProblemMediaType), and the error the client returns for one.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// NewProblem returns the problem of the given kind (one of the Problem* constants) and
// status, titled with the status text.
func NewProblem(kind string, status int, detail string) Problem {
	return Problem{Type: ProblemBase + kind, Title: http.StatusText(status), Status: status, Detail: detail}
}

// Kind returns the problem type's fragment, such as ProblemNotFound; "" for a type
// outside ProblemBase.
func (p *Problem) Kind() string {
	if len(p.Type) > len(ProblemBase) && p.Type[:len(ProblemBase)] == ProblemBase {
		return p.Type[len(ProblemBase):]
	}
	return ""
}

// Error returns the problem as a message: its title, its detail and the HTTP status.
func (p *Problem) Error() string {
	title := p.Title
	if title == "" {
		title = http.StatusText(p.Status)
	}
	if p.Detail == "" {
		return fmt.Sprintf("gateway: %s (HTTP %d)", title, p.Status)
	}
	return fmt.Sprintf("gateway: %s: %s (HTTP %d)", title, p.Detail, p.Status)
}
