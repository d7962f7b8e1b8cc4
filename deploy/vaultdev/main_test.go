package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		args      []string
		env       string
		wantToken string
		wantErr   string
	}{
		{name: "token file", args: []string{"-token-file", tokenFile}, wantToken: "from-file"},
		{name: "token flag", args: []string{"-token", "t1"}, wantToken: "t1"},
		{name: "env", env: "from-env", wantToken: "from-env"},
		{name: "no token", wantErr: "no root token"},
		{name: "non-loopback", args: []string{"-token", "t", "-addr", "0.0.0.0:8200"}, wantErr: "not a loopback address"},
		{name: "non-loopback allowed", args: []string{"-token", "t", "-addr", "0.0.0.0:8200", "-allow-non-loopback"}, wantToken: "t"},
		{name: "ipv6 loopback", args: []string{"-token", "t", "-addr", "[::1]:8200"}, wantToken: "t"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VAULTDEV_ROOT_TOKEN", tc.env)
			cfg, err := loadConfig(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadConfig(%q) error = %v, want one containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig(%q): %v", tc.args, err)
			}
			if cfg.token != tc.wantToken {
				t.Errorf("token = %q, want %q", cfg.token, tc.wantToken)
			}
		})
	}
}

func TestTransitMountList(t *testing.T) {
	cfg, err := loadConfig([]string{"-token", "t", "-transit-mount", "transit, transit-eu ,"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.transitMounts, "|"); got != "transit|transit-eu" {
		t.Errorf("transitMounts = %q, want transit|transit-eu", got)
	}
}
