package devvault

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/sdk/logical"
)

// handleHealth answers like Vault's sys/health: 200 when unsealed, 503 when
// sealed, each overridable with activecode / sealedcode.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		respondError(w, http.StatusMethodNotAllowed, errors.New("unsupported operation"))
		return
	}
	sealed := s.Sealed()
	status, param := http.StatusOK, "activecode"
	if sealed {
		status, param = http.StatusServiceUnavailable, "sealedcode"
	}
	if v := r.URL.Query().Get(param); v != "" {
		code, err := strconv.Atoi(v)
		if err != nil || code < 100 || code > 599 {
			respondError(w, http.StatusBadRequest, fmt.Errorf("bad code for %s: %q", param, v))
			return
		}
		status = code
	}
	body := map[string]any{
		"initialized":                  true,
		"sealed":                       sealed,
		"standby":                      false,
		"performance_standby":          false,
		"replication_performance_mode": "disabled",
		"replication_dr_mode":          "disabled",
		"server_time_utc":              time.Now().Unix(),
		"version":                      Version,
		"enterprise":                   false,
		"cluster_name":                 "vaultdev",
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	respondJSON(w, status, body)
}

func (s *Server) sealStatus() map[string]any {
	return map[string]any{
		"type":          "shamir",
		"initialized":   true,
		"sealed":        s.Sealed(),
		"t":             1,
		"n":             1,
		"progress":      0,
		"nonce":         "",
		"version":       Version,
		"build_date":    "",
		"migration":     false,
		"recovery_seal": false,
		"storage_type":  "file",
		"cluster_name":  "vaultdev",
	}
}

func (s *Server) handleSealStatus(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		respondError(w, http.StatusMethodNotAllowed, errors.New("unsupported operation"))
		return
	}
	respondJSON(w, http.StatusOK, s.sealStatus())
}

// handleUnseal takes the root token as the single unseal key.
func (s *Server) handleUnseal(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		respondError(w, http.StatusMethodNotAllowed, errors.New("unsupported operation"))
		return
	}
	data, err := parseJSONBody(r.Body)
	if err != nil {
		respondError(w, http.StatusBadRequest, err)
		return
	}
	if reset, _ := data["reset"].(bool); reset {
		respondJSON(w, http.StatusOK, s.sealStatus())
		return
	}
	key, _ := data["key"].(string)
	if key == "" {
		respondError(w, http.StatusBadRequest, errors.New("'key' must be specified in request body as JSON, or 'reset' set to true"))
		return
	}
	if !s.isRootToken(key) {
		respondError(w, http.StatusBadRequest, errors.New("invalid unseal key (this dev server's unseal key is its root token)"))
		return
	}
	s.Unseal()
	s.log.InfoContext(r.Context(), "unsealed")
	respondJSON(w, http.StatusOK, s.sealStatus())
}

func (s *Server) handleSeal(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		respondError(w, http.StatusMethodNotAllowed, errors.New("unsupported operation"))
		return
	}
	s.Seal()
	s.log.InfoContext(r.Context(), "sealed")
	w.WriteHeader(http.StatusNoContent)
}

// handleMounts serves sys/mounts (path == "") and sys/mounts/<path>.
func (s *Server) handleMounts(w http.ResponseWriter, r *http.Request, path string) {
	ctx := r.Context()
	switch {
	case r.Method == http.MethodGet && path == "":
		respondData(w, s.listMounts())
	case r.Method == http.MethodGet:
		out := s.mountOutput(path)
		if out == nil {
			respondError(w, http.StatusBadRequest, fmt.Errorf("no secret engine mount at %s/", path))
			return
		}
		respondData(w, out)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && path != "":
		data, err := parseJSONBody(r.Body)
		if err != nil {
			respondError(w, http.StatusBadRequest, err)
			return
		}
		typ, _ := data["type"].(string)
		desc, _ := data["description"].(string)
		if err := s.EnableMount(ctx, path, typ, desc); err != nil {
			s.respondMountError(w, r, err)
			return
		}
		s.log.InfoContext(ctx, "mounted", "path", path, "type", typ)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete && path != "":
		if err := s.disableMount(ctx, path); err != nil {
			s.respondMountError(w, r, err)
			return
		}
		s.log.InfoContext(ctx, "unmounted", "path", path)
		w.WriteHeader(http.StatusNoContent)
	default:
		respondError(w, http.StatusMethodNotAllowed, errors.New("unsupported operation"))
	}
}

func (s *Server) respondMountError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errMountInUse) || errors.Is(err, errBadMount) {
		respondError(w, http.StatusBadRequest, err)
		return
	}
	s.log.ErrorContext(r.Context(), "mount table", "error", err)
	respondError(w, http.StatusInternalServerError, errors.New("internal error"))
}

// handleLookupSelf describes the root token, enough for clients that check
// their token on start-up.
func (s *Server) handleLookupSelf(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		respondError(w, http.StatusMethodNotAllowed, errors.New("unsupported operation"))
		return
	}
	respondData(w, map[string]any{
		"accessor":         "",
		"creation_ttl":     0,
		"display_name":     "root",
		"entity_id":        "",
		"expire_time":      nil,
		"explicit_max_ttl": 0,
		"id":               string(s.token),
		"meta":             nil,
		"num_uses":         0,
		"orphan":           true,
		"path":             "auth/token/root",
		"policies":         []string{"root"},
		"renewable":        false,
		"ttl":              0,
		"type":             "service",
	})
}

func respondData(w http.ResponseWriter, data map[string]any) {
	id, _ := uuid.GenerateUUID()
	respondJSON(w, http.StatusOK, &logical.HTTPResponse{RequestID: id, Data: data})
}
