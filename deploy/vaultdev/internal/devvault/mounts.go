package devvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-uuid"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/sdk/logical"
)

// mountTableKey is where the mount table lives in the root storage.
const mountTableKey = "core/mounts"

// engines are the secrets engines that can be mounted, by type name.
var engines = map[string]logical.Factory{
	"transit": transit.Factory,
}

// errMountInUse and errBadMount are returned by enable; they become 400s.
var (
	errMountInUse = errors.New("path is already in use")
	errBadMount   = errors.New("invalid mount")
)

// mountEntry is one row of the persisted mount table.
type mountEntry struct {
	Path        string `json:"path"` // with a trailing slash
	Type        string `json:"type"`
	Description string `json:"description"`
	UUID        string `json:"uuid"`
	Accessor    string `json:"accessor"`
}

type mount struct {
	mountEntry
	backend logical.Backend
	view    *logical.StorageView
}

// output is the shape of one mount in sys/mounts responses.
func (m *mount) output() map[string]any {
	return map[string]any{
		"type":                    m.Type,
		"description":             m.Description,
		"uuid":                    m.UUID,
		"accessor":                m.Accessor,
		"config":                  map[string]any{"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": false},
		"options":                 map[string]string{},
		"local":                   false,
		"seal_wrap":               false,
		"external_entropy_access": false,
		"plugin_version":          "",
		"running_plugin_version":  "v" + Version + "+builtin",
		"running_sha256":          "",
		"deprecation_status":      "supported",
	}
}

// normalizeMountPath turns "transit" or "/transit/" into "transit/".
func normalizeMountPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" || strings.Contains(p, "..") || p == "sys" || strings.HasPrefix(p, "sys/") ||
		p == "auth" || strings.HasPrefix(p, "auth/") {
		return "", fmt.Errorf("%w: path %q is reserved or empty", errBadMount, p)
	}
	return p + "/", nil
}

func (s *Server) loadMounts(ctx context.Context) error {
	e, err := s.store.Get(ctx, mountTableKey)
	if err != nil {
		return fmt.Errorf("reading mount table: %w", err)
	}
	if e == nil {
		return nil
	}
	var table []mountEntry
	if err := json.Unmarshal(e.Value, &table); err != nil {
		return fmt.Errorf("decoding mount table: %w", err)
	}
	for _, me := range table {
		m, err := s.startBackend(ctx, me)
		if err != nil {
			return err
		}
		s.mounts[me.Path] = m
	}
	return nil
}

// saveMounts persists the mount table; s.mu must be held for writing.
func (s *Server) saveMounts(ctx context.Context) error {
	table := make([]mountEntry, 0, len(s.mounts))
	for _, m := range s.mounts {
		table = append(table, m.mountEntry)
	}
	b, err := json.Marshal(table)
	if err != nil {
		return fmt.Errorf("encoding mount table: %w", err)
	}
	if err := s.store.Put(ctx, &logical.StorageEntry{Key: mountTableKey, Value: b}); err != nil {
		return fmt.Errorf("writing mount table: %w", err)
	}
	return nil
}

// startBackend instantiates and initializes the engine of me over its own
// storage view, as Vault does when it mounts or unseals.
func (s *Server) startBackend(ctx context.Context, me mountEntry) (*mount, error) {
	factory, ok := engines[me.Type]
	if !ok {
		return nil, fmt.Errorf("%w: unsupported mount type %q (this dev server mounts only transit)", errBadMount, me.Type)
	}
	view := logical.NewStorageView(s.store, "logical/"+me.UUID+"/")
	conf := &logical.BackendConfig{
		StorageView: view,
		Logger:      s.elog.Named(strings.TrimSuffix(me.Path, "/")),
		System: &logical.StaticSystemView{
			DefaultLeaseTTLVal: 768 * time.Hour,
			MaxLeaseTTLVal:     768 * time.Hour,
			VersionString:      Version,
		},
		BackendUUID: me.UUID,
		Config:      map[string]string{},
	}
	b, err := factory(ctx, conf)
	if err != nil {
		return nil, fmt.Errorf("starting %s engine at %s: %w", me.Type, me.Path, err)
	}
	if err := b.Initialize(ctx, &logical.InitializationRequest{Storage: view}); err != nil {
		return nil, fmt.Errorf("initializing %s engine at %s: %w", me.Type, me.Path, err)
	}
	return &mount{mountEntry: me, backend: b, view: view}, nil
}

// EnableMount mounts a secrets engine of type typ at path. It fails with a
// "path is already in use" error if path overlaps an existing mount.
func (s *Server) EnableMount(ctx context.Context, path, typ, description string) error {
	p, err := normalizeMountPath(path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for existing := range s.mounts {
		if strings.HasPrefix(p, existing) || strings.HasPrefix(existing, p) {
			return fmt.Errorf("%w at %s", errMountInUse, existing)
		}
	}
	me := mountEntry{Path: p, Type: typ, Description: description}
	if me.UUID, err = uuid.GenerateUUID(); err != nil {
		return fmt.Errorf("mounting %s: %w", p, err)
	}
	me.Accessor = typ + "_" + me.UUID[:8]
	m, err := s.startBackend(ctx, me)
	if err != nil {
		return err
	}
	s.mounts[p] = m
	if err := s.saveMounts(ctx); err != nil {
		delete(s.mounts, p)
		return err
	}
	return nil
}

// HasMount reports whether a mount exists at path.
func (s *Server) HasMount(path string) bool {
	p, err := normalizeMountPath(path)
	if err != nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mounts[p] != nil
}

// disableMount unmounts path and deletes everything its engine stored.
// Unmounting a path that is not mounted succeeds, as in Vault.
func (s *Server) disableMount(ctx context.Context, path string) error {
	p, err := normalizeMountPath(path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.mounts[p]
	if m == nil {
		return nil
	}
	delete(s.mounts, p)
	if err := s.saveMounts(ctx); err != nil {
		s.mounts[p] = m
		return err
	}
	m.backend.Cleanup(ctx)
	if err := logical.ClearView(ctx, m.view); err != nil {
		return fmt.Errorf("clearing storage of %s: %w", p, err)
	}
	return nil
}

// route finds the mount whose path is the longest prefix of path, and the
// path relative to it.
func (s *Server) route(path string) (*mount, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best *mount
	for p, m := range s.mounts {
		if (strings.HasPrefix(path, p) || path+"/" == p) && (best == nil || len(p) > len(best.Path)) {
			best = m
		}
	}
	if best == nil {
		return nil, ""
	}
	rel, _ := strings.CutPrefix(path, best.Path)
	if path+"/" == best.Path {
		rel = ""
	}
	return best, rel
}

// listMounts returns the sys/mounts data: mount path -> mount output.
func (s *Server) listMounts() map[string]any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]any, len(s.mounts))
	for p, m := range s.mounts {
		out[p] = m.output()
	}
	return out
}

func (s *Server) mountOutput(path string) map[string]any {
	p, err := normalizeMountPath(path)
	if err != nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if m := s.mounts[p]; m != nil {
		return m.output()
	}
	return nil
}
