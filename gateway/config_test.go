package gateway

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o600)
			c, err := LoadConfig(p)
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
		LoadConfig(p)
	})
}
