package devvault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/helper/jsonutil"
	"github.com/hashicorp/vault/sdk/logical"
)

var (
	errPermissionDenied = errors.New("permission denied")
	//lint:ignore ST1005 Vault's exact message, which clients match on
	errSealed = errors.New("Vault is sealed")
)

// ServeHTTP serves, under /v1/:
//
//	GET|HEAD      sys/health            unauthenticated; 200, or 503 when sealed
//	                                    (activecode and sealedcode query overrides)
//	GET           sys/seal-status       unauthenticated
//	PUT|POST      sys/unseal            unauthenticated; {"key": <root token>} or {"reset": true}
//	PUT|POST      sys/seal              seal
//	GET           sys/mounts            list mounts
//	GET           sys/mounts/<path>     read one mount
//	POST|PUT      sys/mounts/<path>     enable an engine: {"type": "transit", "description": ...}
//	DELETE        sys/mounts/<path>     disable it and delete its storage
//	GET           auth/token/lookup-self
//	any           <mount>/<path>        the engine: GET read (or list with ?list=true),
//	                                    LIST list, POST/PUT create or update, DELETE delete
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		respondError(w, http.StatusNotFound, errors.New("unsupported path"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	switch path {
	case "sys/health":
		s.handleHealth(w, r)
		return
	case "sys/seal-status":
		s.handleSealStatus(w, r)
		return
	case "sys/unseal":
		s.handleUnseal(w, r)
		return
	}
	// As in Vault, a sealed server refuses everything else before it even
	// looks at the token.
	if s.Sealed() {
		respondError(w, http.StatusServiceUnavailable, errSealed)
		return
	}
	if !s.checkToken(r) {
		respondError(w, http.StatusForbidden, errPermissionDenied)
		return
	}
	switch {
	case path == "sys/seal":
		s.handleSeal(w, r)
	case path == "sys/mounts" || strings.HasPrefix(path, "sys/mounts/"):
		s.handleMounts(w, r, strings.TrimPrefix(strings.TrimPrefix(path, "sys/mounts"), "/"))
	case path == "auth/token/lookup-self":
		s.handleLookupSelf(w, r)
	case path == "sys" || strings.HasPrefix(path, "sys/") || path == "auth" || strings.HasPrefix(path, "auth/"):
		respondError(w, http.StatusNotFound, fmt.Errorf("unsupported path (this dev server implements only part of sys/ and auth/)"))
	default:
		s.handleLogical(w, r, path)
	}
}

// handleLogical turns the HTTP request into a logical.Request for the mount's
// engine, as Vault's HTTP layer and request handler do.
func (s *Server) handleLogical(w http.ResponseWriter, r *http.Request, path string) {
	m, rel := s.route(path)
	if m == nil {
		//lint:ignore ST1005 Vault's exact message
		respondError(w, http.StatusNotFound, fmt.Errorf("no handler for route %q. route entry not found.", path))
		return
	}
	req, err := buildRequest(r, rel)
	if err != nil {
		respondError(w, http.StatusBadRequest, err)
		return
	}
	req.Storage = m.view
	req.MountPoint = m.Path
	req.MountType = m.Type
	req.MountAccessor = m.Accessor
	req.ClientToken = string(s.token)
	req.Connection = &logical.Connection{RemoteAddr: r.RemoteAddr}
	ctx := r.Context()
	if req.Operation == logical.UpdateOperation {
		// Vault asks the engine whether the target exists to choose between
		// create and update (transit's encrypt upserts keys on create).
		found, exists, err := m.backend.HandleExistenceCheck(ctx, req)
		switch {
		case errors.Is(err, logical.ErrUnsupportedPath):
		case err != nil:
			s.log.ErrorContext(ctx, "existence check", "mount", m.Path, "path", rel, "error", err)
			respondError(w, http.StatusInternalServerError, errors.New("internal error"))
			return
		case found && !exists:
			req.Operation = logical.CreateOperation
		}
	}
	resp, err := m.backend.HandleRequest(ctx, req)
	if status, rerr := logical.RespondErrorCommon(req, resp, err); status != 0 {
		if status >= 500 {
			s.log.ErrorContext(ctx, "engine request", "mount", m.Path, "path", rel, "operation", req.Operation, "status", status, "error", rerr)
		}
		logical.RespondError(w, status, rerr)
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	hr := logical.LogicalResponseToHTTPResponse(resp)
	hr.RequestID = req.ID
	hr.MountType = m.Type
	respondJSON(w, http.StatusOK, hr)
}

// buildRequest maps the method to an operation and reads the request data:
// the JSON body for writes, the query for reads, lists and deletes.
func buildRequest(r *http.Request, path string) (*logical.Request, error) {
	id, err := uuid.GenerateUUID()
	if err != nil {
		return nil, err
	}
	// Headers are not passed on: they carry the token, and transit reads none.
	req := &logical.Request{ID: id, Path: path}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		req.Operation = logical.ReadOperation
		if l := q.Get("list"); l != "" {
			list, err := strconv.ParseBool(l)
			if err != nil {
				return nil, fmt.Errorf("invalid list parameter %q", l)
			}
			if list {
				req.Operation = logical.ListOperation
			}
			q.Del("list")
		}
	case "LIST":
		req.Operation = logical.ListOperation
	case http.MethodDelete:
		req.Operation = logical.DeleteOperation
	case http.MethodPost, http.MethodPut:
		req.Operation = logical.UpdateOperation
		data, err := parseJSONBody(r.Body)
		if err != nil {
			return nil, err
		}
		req.Data = data
		return req, nil
	default:
		return nil, fmt.Errorf("unsupported HTTP method %s", r.Method)
	}
	if req.Operation == logical.ListOperation && !strings.HasSuffix(req.Path, "/") {
		req.Path += "/"
	}
	req.Data = queryData(q)
	return req, nil
}

// parseJSONBody decodes a JSON object body (numbers kept as json.Number, as
// Vault does); an empty body is no data.
func parseJSONBody(body io.Reader) (map[string]any, error) {
	var data map[string]any
	err := jsonutil.DecodeJSONFromReader(body, &data)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("error parsing JSON: %w", err)
	}
	return data, nil
}

func queryData(q url.Values) map[string]any {
	if len(q) == 0 {
		return nil
	}
	data := make(map[string]any, len(q))
	for k, v := range q {
		if len(v) == 1 {
			data[k] = v[0]
		} else {
			data[k] = v
		}
	}
	return data
}

// respondError writes Vault's error shape: {"errors": [...]}.
func respondError(w http.ResponseWriter, status int, err error) {
	logical.RespondError(w, status, err)
}

func respondJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
