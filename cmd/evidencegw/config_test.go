package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name, yaml, want string // want "" = valid
	}{
		{"empty file is the default", "", ""},
		{"listen", "listen: 127.0.0.1:9443\n", ""},
		{"unknown key", "listn: 127.0.0.1:9443\n", "listn"},
		{"bad listen", "listen: nowhere\n", "listen"},
		{"bad agency id", "agencies:\n  - id: Agency/NL\n    jurisdiction: NL\n", "agency id"},
		{"bad jurisdiction", "agencies:\n  - id: a\n    jurisdiction: Netherlands\n", "jurisdiction"},
		{"bad role", "agencies:\n  - id: a\n    jurisdiction: NL\n    members:\n      - {subject: CN=x, person: x, role: admin}\n", "role"},
		{"duplicate agency", "agencies:\n  - {id: a, jurisdiction: NL}\n  - {id: a, jurisdiction: NL}\n", "twice"},
		{"cert without key", "tls:\n  cert: x.pem\n", "together"},
		{"s3 without buckets", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: GOVERNANCE, retention_days: 1}\n", "no bucket for jurisdiction"},
		{"s3 bad retention", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: NONE, retention_days: 1}\n", "retention_mode"},
		{"s3 complete", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: COMPLIANCE, retention_days: 3650, buckets: {NL: evidence-nl, US: evidence-us}}\n", ""},
		{"vault without token", "backends:\n  keys: {type: vault, address: http://127.0.0.1:8200}\n", "token_file"},
		{"unknown log", "backends:\n  log: {type: rekor}\n", "not tessera or trillian"},
		{"trillian without tree", "backends:\n  log: {type: trillian, address: 127.0.0.1:8090}\n", "tree_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o600)
			c, err := loadConfig(p)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
			if tt.want == "" && (c.Listen == "" || len(c.Agencies) == 0 || c.LogOrigin == "") {
				t.Errorf("defaults not filled: %+v", c)
			}
		})
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8443\nagencies:\n  - id: a\n    jurisdiction: NL\n"))
	f.Add([]byte("{"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, data, 0o600)
		loadConfig(p)
	})
}
