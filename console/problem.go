package console

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
)

// ProblemBase prefixes the type URI of the problems the console itself answers; the
// fragment names the section of docs/console.md that explains it. The gateway's own
// problems pass through the console unchanged (docs/api.md).
const ProblemBase = "https://github.com/evidencegw/evidencegw/blob/main/docs/console.md#"

// The console's own problem types.
const (
	problemSession     = "console-session"
	problemHost        = "console-host"
	problemOrigin      = "console-origin"
	problemInvalid     = "console-invalid-request"
	problemNotProxied  = "console-not-proxied"
	problemUnreachable = "console-gateway-unreachable"
	problemJobs        = "console-busy"
)

func consoleProblem(kind string, status int, detail string) *api.Problem {
	return &api.Problem{Type: ProblemBase + kind, Title: http.StatusText(status), Status: status, Detail: detail}
}

// writeProblem sends p as an RFC 9457 problem.
func writeProblem(w http.ResponseWriter, p *api.Problem) {
	w.Header().Set("Content-Type", api.ProblemMediaType)
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// problemOf is the problem to answer for err, from a call of the gateway: the
// gateway's own problem as it sent it (its detail says, in plain words, what is
// wrong or missing); for an error of the console's side, what it is.
func problemOf(err error) *api.Problem {
	var p *api.Problem
	if errors.As(err, &p) {
		return p
	}
	var ie *client.IntegrityError
	if errors.As(err, &ie) {
		return consoleProblem("console-integrity-failure", http.StatusBadGateway, ie.Error())
	}
	return consoleProblem(problemUnreachable, http.StatusBadGateway,
		"the console could not complete this with the gateway: "+err.Error())
}

// writeJSON sends v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.JSONMediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
