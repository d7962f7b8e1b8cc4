package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// Bounds of what the browser sends and the gateway answers through the console.
const (
	// maxJSONBody bounds a JSON request body, as the gateway does.
	maxJSONBody = 64 << 10
	// maxQuery bounds a read's query string.
	maxQuery = 4 << 10
	// maxAccept bounds the Accept header passed on.
	maxAccept = 256
	// maxForwarded bounds an answer passed on: the largest the API sends is a bundle.
	maxForwarded = custody.MaxBundleSize
)

const uploadsNotProxied = "upload evidence with POST /console/uploads: the console sends it resumably and signs its register act"

// forwardedHeaders are the headers of a gateway answer the console passes on.
var forwardedHeaders = []string{"Content-Type", "Content-Length", "ETag", "Retry-After", "Allow",
	api.HeaderReprDigest, api.HeaderCustodyEvent}

// routes registers the console's routes (docs/console.md, "Routes").
func (c *Console) routes(mux *http.ServeMux) {
	// The page.
	mux.HandleFunc("GET /{$}", c.serveAsset)
	mux.HandleFunc("GET /{file}", c.serveAsset)

	// The gateway's API: reads pass through unchanged; every change of custody is
	// made by the client library, which signs the member's act.
	mux.HandleFunc("GET /v1/", c.forwardRead)
	mux.HandleFunc("GET /v1/evidence/{id}/content", c.notProxied("download evidence with POST /console/downloads: the console checks its digest and sends your signed receipt"))
	mux.HandleFunc("GET /v1/uploads/", c.notProxied(uploadsNotProxied))
	mux.HandleFunc("POST /v1/evidence/{id}/grants", c.share)
	mux.HandleFunc("POST /v1/evidence/{id}/grants/{grant}/revoke", c.revoke)
	mux.HandleFunc("POST /v1/evidence/{id}/accept", c.accept)
	mux.HandleFunc("POST /v1/evidence/{id}/hold", c.hold(true))
	mux.HandleFunc("POST /v1/evidence/{id}/release", c.hold(false))
	mux.HandleFunc("POST /v1/evidence/{id}/bundle", c.bundle)
	mux.HandleFunc("POST /v1/evidence/{id}/dispose", c.dispose)
	mux.HandleFunc("POST /v1/requests", c.fileRequest)
	mux.HandleFunc("POST /v1/requests/{id}/acknowledge", c.requestAction("request-acknowledged"))
	mux.HandleFunc("POST /v1/requests/{id}/withdraw", c.requestAction("request-withdrawn"))
	mux.HandleFunc("POST /v1/requests/{id}/respond", c.respond)

	// The console's own routes: transfers run by the proxy, followed by the page.
	mux.HandleFunc("GET /console/session", c.sessionInfo)
	mux.HandleFunc("POST /console/uploads", c.jobs.startUpload)
	mux.HandleFunc("POST /console/downloads", c.jobs.startDownload)
	mux.HandleFunc("GET /console/jobs/{job}", c.jobs.show)
	mux.HandleFunc("GET /console/jobs/{job}/file", c.jobs.serveFile)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, consoleProblem(problemNotProxied, http.StatusNotFound, "the console has no "+r.Method+" "+r.URL.Path))
	})
}

// forwardRead passes a read of the API to the gateway and its answer back, as they
// are (a bounded set of headers, a bounded body).
func (c *Console) forwardRead(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > maxQuery {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("query longer than %d bytes", maxQuery)))
		return
	}
	accept := r.Header.Get("Accept")
	if len(accept) > maxAccept {
		accept = api.JSONMediaType
	}
	resp, err := c.cfg.Client.Get(r.Context(), r.URL.Path, r.URL.Query(), accept)
	if err != nil {
		writeProblem(w, problemOf(err))
		return
	}
	defer resp.Body.Close()
	if resp.ContentLength > maxForwarded {
		writeProblem(w, consoleProblem(problemUnreachable, http.StatusBadGateway, "the gateway's answer is larger than the console passes on"))
		return
	}
	for _, h := range forwardedHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, maxForwarded))
}

// notProxied answers a route of the API the console does not pass on, saying which of
// its own does the work.
func (c *Console) notProxied(detail string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, consoleProblem(problemNotProxied, http.StatusNotFound, detail))
	}
}

// decodeBody decodes a JSON request body strictly into v; an empty body leaves v as is
// when emptyOK.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxJSONBody)))
		return false
	}
	if len(body) == 0 && emptyOK {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		if err == nil {
			err = errors.New("data after the JSON value")
		}
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, "the request body is not what this route takes: "+err.Error()))
		return false
	}
	return true
}

// evidenceID returns the request's evidence id, answering 400 if it is malformed.
func evidenceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !custody.ValidEvidenceID(id) {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("%q is not an evidence id (ev- and 26 letters a-z or digits 2-7)", id)))
		return "", false
	}
	return id, true
}

// change runs a change of custody through the client and answers its result.
func (c *Console) change(w http.ResponseWriter, r *http.Request, what string, status int, do func(ctx context.Context) (any, error)) {
	out, err := do(r.Context())
	if err != nil {
		c.log.InfoContext(r.Context(), "console change refused", "change", what, "path", r.URL.Path, "error", err)
		writeProblem(w, problemOf(err))
		return
	}
	c.log.InfoContext(r.Context(), "console change recorded", "change", what, "path", r.URL.Path)
	writeJSON(w, status, out)
}

func (c *Console) share(w http.ResponseWriter, r *http.Request) {
	id, ok := evidenceID(w, r)
	var req api.ShareRequest
	if !ok || !decodeBody(w, r, &req, false) {
		return
	}
	c.change(w, r, "share", http.StatusCreated, func(ctx context.Context) (any, error) {
		return c.cfg.Client.Share(ctx, id, req)
	})
}

func (c *Console) revoke(w http.ResponseWriter, r *http.Request) {
	id, ok := evidenceID(w, r)
	var req api.RevokeRequest
	if !ok || !decodeBody(w, r, &req, true) {
		return
	}
	grant := r.PathValue("grant")
	if !custody.ValidGrantID(grant) {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("%q is not a grant id (gr- and 16 letters a-z or digits 2-7)", grant)))
		return
	}
	c.change(w, r, "revoke", http.StatusOK, func(ctx context.Context) (any, error) {
		return c.cfg.Client.Revoke(ctx, id, grant, req)
	})
}

func (c *Console) accept(w http.ResponseWriter, r *http.Request) {
	id, ok := evidenceID(w, r)
	var req api.AcceptRequest
	if !ok || !decodeBody(w, r, &req, true) {
		return
	}
	c.change(w, r, "accept", http.StatusOK, func(ctx context.Context) (any, error) {
		return c.cfg.Client.AcceptGrant(ctx, id, req.GrantID)
	})
}

func (c *Console) hold(on bool) http.HandlerFunc {
	what := "legal-hold"
	if !on {
		what = "legal-hold-release"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := evidenceID(w, r)
		var req api.HoldRequest
		if !ok || !decodeBody(w, r, &req, true) {
			return
		}
		c.change(w, r, what, http.StatusOK, func(ctx context.Context) (any, error) {
			return c.cfg.Client.Hold(ctx, id, on, req.Reason)
		})
	}
}

// dispose disposes of evidence under the authority the member names, through the
// client as `evidencegw dispose` does.
func (c *Console) dispose(w http.ResponseWriter, r *http.Request) {
	id, ok := evidenceID(w, r)
	var req api.DisposeRequest
	if !ok || !decodeBody(w, r, &req, false) {
		return
	}
	c.change(w, r, "dispose", http.StatusOK, func(ctx context.Context) (any, error) {
		return c.cfg.Client.Dispose(ctx, id, req.Authority)
	})
}

// requestID returns the request's request id, answering 400 if it is malformed.
func requestID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !custody.ValidRequestID(id) {
		writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("%q is not a request id (rq- and 26 letters a-z or digits 2-7)", id)))
		return "", false
	}
	return id, true
}

// fileRequest files a request for evidence under a legal instrument, through the
// client as `evidencegw request` does.
func (c *Console) fileRequest(w http.ResponseWriter, r *http.Request) {
	var req api.FileRequest
	if !decodeBody(w, r, &req, false) {
		return
	}
	c.change(w, r, "request-filed", http.StatusCreated, func(ctx context.Context) (any, error) {
		return c.cfg.Client.FileRequest(ctx, req)
	})
}

// requestAction acknowledges or withdraws a request (body {"reason"}, optional),
// through the client as `evidencegw acknowledge` and `withdraw` do.
func (c *Console) requestAction(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := requestID(w, r)
		var req api.RequestAction
		if !ok || !decodeBody(w, r, &req, true) {
			return
		}
		c.change(w, r, what, http.StatusOK, func(ctx context.Context) (any, error) {
			if what == "request-withdrawn" {
				return c.cfg.Client.WithdrawRequest(ctx, id, req.Reason)
			}
			return c.cfg.Client.AcknowledgeRequest(ctx, id, req.Reason)
		})
	}
}

// respond answers a request, sharing exhibits or refusing, through the client as
// `evidencegw respond` does.
func (c *Console) respond(w http.ResponseWriter, r *http.Request) {
	id, ok := requestID(w, r)
	var req api.RespondRequest
	if !ok || !decodeBody(w, r, &req, false) {
		return
	}
	for _, ev := range req.Share {
		if !custody.ValidEvidenceID(ev) {
			writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, fmt.Sprintf("%q is not an evidence id (ev- and 26 letters a-z or digits 2-7)", ev)))
			return
		}
	}
	c.change(w, r, "request-respond", http.StatusOK, func(ctx context.Context) (any, error) {
		return c.cfg.Client.RespondRequest(ctx, id, req)
	})
}

// bundle exports the court bundle (a bundle-export event, which needs no act) and
// answers it as the gateway did.
func (c *Console) bundle(w http.ResponseWriter, r *http.Request) {
	id, ok := evidenceID(w, r)
	if !ok {
		return
	}
	var from []uint64
	if v := r.URL.Query().Get("consistency_from"); v != "" {
		for s := range strings.SplitSeq(v, ",") {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil || len(from) == 16 {
				writeProblem(w, consoleProblem(problemInvalid, http.StatusBadRequest, "consistency_from is up to 16 tree sizes separated by commas"))
				return
			}
			from = append(from, n)
		}
	}
	b, err := c.cfg.Client.Bundle(r.Context(), id, from...)
	if err != nil {
		writeProblem(w, problemOf(err))
		return
	}
	if b.Custody != nil {
		if v, err := api.FormatCustodyEvent(*b.Custody); err == nil {
			w.Header().Set(api.HeaderCustodyEvent, v)
		}
	}
	w.Header().Set("Content-Type", custody.BundleMediaType)
	w.Write(b.Raw)
}

// sessionInfo tells the page what this console is: the gateway, who signs the acts,
// whether the in-browser verifier is built in, the upload limit.
func (c *Console) sessionInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Gateway       string `json:"gateway"`
		ActSigner     string `json:"act_signer"`
		Verifier      bool   `json:"verifier"`
		MaxUploadSize int64  `json:"max_upload_size"`
	}{c.cfg.Gateway, c.cfg.Client.ActSigner().Subject(), c.assets.verifier, c.cfg.MaxUploadSize})
}
