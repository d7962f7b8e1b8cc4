package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/vault/api"

	"github.com/evidencegw/evidencegw/keys"
)

// path joins the mount and the parts of a transit path.
func (m *Manager) path(parts ...string) string {
	return m.cfg.Mount + "/" + strings.Join(parts, "/")
}

// write performs one transit write, bounded by callTimeout.
func (m *Manager) write(ctx context.Context, path string, data map[string]any) (map[string]any, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	s, err := m.client.Logical().WriteWithContext(cctx, path, data)
	if err != nil {
		return nil, m.check(ctx, err)
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("no data from Vault at %s for %s", m.cfg.Address, path)
	}
	return s.Data, nil
}

// read performs one transit read, bounded by callTimeout. A path that does not
// exist is nil data and no error.
func (m *Manager) read(ctx context.Context, path string) (map[string]any, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	s, err := m.client.Logical().ReadWithContext(cctx, path)
	if err != nil {
		return nil, m.check(ctx, err)
	}
	if s == nil {
		return nil, nil
	}
	return s.Data, nil
}

// check turns an error of the Vault client into an error that says what Vault
// answered; unavailability (transport error, timeout, sealed, overloaded) wraps
// keys.ErrUnavailable. ctx is the caller's context: its own cancellation is
// returned as is, not as unavailability.
func (m *Manager) check(ctx context.Context, err error) error {
	return checkErr(ctx, m.cfg.Address, err)
}

func checkErr(ctx context.Context, addr string, err error) error {
	var re *api.ResponseError
	switch {
	case errors.As(err, &re):
		msg := strings.Join(re.Errors, "; ")
		switch re.StatusCode {
		case http.StatusServiceUnavailable:
			if strings.Contains(strings.ToLower(msg), "sealed") {
				return fmt.Errorf("%w: Vault at %s is sealed", keys.ErrUnavailable, addr)
			}
			fallthrough
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusGatewayTimeout:
			return fmt.Errorf("%w: Vault at %s answered %d: %s", keys.ErrUnavailable, addr, re.StatusCode, msg)
		case http.StatusForbidden:
			return fmt.Errorf("request denied by Vault at %s (check the token and its policy): %w", addr, &responseError{re.StatusCode, msg})
		}
		return fmt.Errorf("calling Vault at %s: %w", addr, &responseError{re.StatusCode, msg})
	case ctx.Err() != nil:
		return fmt.Errorf("calling Vault at %s: %w", addr, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: Vault at %s did not answer within %s", keys.ErrUnavailable, addr, callTimeout)
	}
	return fmt.Errorf("%w: Vault at %s: %w", keys.ErrUnavailable, addr, err)
}

// responseError is an error answer of Vault, without the request URL that the
// client's error repeats.
type responseError struct {
	status int
	msg    string
}

func (e *responseError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.msg) }

// isStatus reports whether err is Vault's answer with the given HTTP status.
func isStatus(err error, status int) bool {
	var re *responseError
	return errors.As(err, &re) && re.status == status
}

// keyInfo is what the package uses of a transit key read.
type keyInfo struct {
	typ           string
	derived       bool
	latestVersion int
	// versions of asymmetric keys, in increasing version order.
	versions []keyVersion
}

type keyVersion struct {
	version int
	// publicKey is PEM for ECDSA keys, base64 of the raw key for Ed25519 keys.
	publicKey string
	created   time.Time
}

// readKey reads transit keys/<name>; nil if the key does not exist.
func (m *Manager) readKey(ctx context.Context, name string) (*keyInfo, error) {
	data, err := m.read(ctx, m.path("keys", name))
	if err != nil {
		return nil, fmt.Errorf("reading transit key %s/%s: %w", m.cfg.Mount, name, err)
	}
	if data == nil {
		return nil, nil
	}
	info, err := parseKeyInfo(data)
	if err != nil {
		return nil, fmt.Errorf("reading transit key %s/%s: %w", m.cfg.Mount, name, err)
	}
	return info, nil
}

func parseKeyInfo(data map[string]any) (*keyInfo, error) {
	info := &keyInfo{}
	info.typ, _ = data["type"].(string)
	info.derived, _ = data["derived"].(bool)
	latest, err := number(data["latest_version"])
	if err != nil {
		return nil, fmt.Errorf("latest_version: %w", err)
	}
	info.latestVersion = latest
	if info.typ == typeKEK {
		return info, nil // keys maps versions to creation times only
	}
	versions, _ := data["keys"].(map[string]any)
	for v, raw := range versions {
		kv, err := parseKeyVersion(v, raw)
		if err != nil {
			return nil, fmt.Errorf("version %s: %w", v, err)
		}
		info.versions = append(info.versions, kv)
	}
	sort.Slice(info.versions, func(i, j int) bool { return info.versions[i].version < info.versions[j].version })
	return info, nil
}

func parseKeyVersion(v string, raw any) (keyVersion, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return keyVersion{}, errors.New("not a version number")
	}
	fields, ok := raw.(map[string]any)
	if !ok {
		return keyVersion{}, errors.New("not an asymmetric key version")
	}
	pub, _ := fields["public_key"].(string)
	ct, _ := fields["creation_time"].(string)
	created, err := time.Parse(time.RFC3339Nano, ct)
	if err != nil {
		return keyVersion{}, fmt.Errorf("creation_time %q: %w", ct, err)
	}
	if pub == "" {
		return keyVersion{}, errors.New("no public key")
	}
	return keyVersion{version: n, publicKey: pub, created: created}, nil
}

// number reads a JSON number of a Vault response (the client decodes numbers as
// json.Number).
func number(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.Atoi(n.String())
		return i, err
	case float64:
		return int(n), nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

// versionOf returns the key version of a transit ciphertext or signature,
// "vault:v<version>:<base64>".
func versionOf(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	if !ok {
		return 0, false
	}
	v, _, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n > 0
}

func validOrigin(origin string) bool {
	return origin != "" && !strings.Contains(origin, "+") && strings.IndexFunc(origin, unicode.IsSpace) < 0
}
