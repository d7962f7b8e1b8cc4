package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
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
		{"limits", "limits: {body_idle_timeout: 2m, uploads_per_member: 2, requests_per_second: 5.5, request_burst: 10}\n", ""},
		{"unknown limit", "limits: {uploads: 3}\n", "uploads"},
		{"negative limit", "limits: {uploads_per_member: -1}\n", "negative"},
		{"negative gateway uploads", "limits: {max_uploads: -1}\n", "negative"},
		{"idle timeout without a unit", "limits: {body_idle_timeout: 60}\n", "time.Duration"},
		{"idle timeout not a duration", "limits: {body_idle_timeout: soon}\n", "time.Duration"},
		{"idle timeout under a second", "limits: {body_idle_timeout: 500ms}\n", "at least 1s"},
		{"ops_listen", "ops_listen: 0.0.0.0:9464\n", ""},
		{"ops_listen off", "ops_listen: \"\"\n", ""},
		{"bad ops_listen", "ops_listen: nowhere\n", "ops_listen"},
		{"ops_listen on the API", "listen: 127.0.0.1:9443\nops_listen: 127.0.0.1:9443\n", "API's address"},
		{"witness policy inline", "witnesses:\n  policy: |\n    witness a " + testWitnessKey + " http://127.0.0.1:7380\n    quorum a\n", ""},
		{"witness policy none", "witnesses:\n  policy: \"quorum none\\n\"\n", ""},
		{"witness without URL", "witnesses:\n  policy: |\n    witness a " + testWitnessKey + "\n    quorum a\n", "URL"},
		{"witness policy invalid", "witnesses:\n  policy: |\n    witness a\n    quorum a\n", "witness policy line 1"},
		{"witness policy twice", "witnesses:\n  policy: \"quorum none\\n\"\n  policy_file: /x\n", "exclude each other"},
		{"witness policy file missing", "witnesses:\n  policy_file: /nonexistent/witnesses.txt\n", "no such file"},
		{"witness timeout negative", "witnesses:\n  timeout: -1s\n", "timeout must be positive"},
		{"s3 retention as a period", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: GOVERNANCE, retention: 30s, buckets: {NL: evidence-nl, US: evidence-us}}\n", ""},
		{"s3 retention twice", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: GOVERNANCE, retention: 30s, retention_days: 1, buckets: {NL: evidence-nl, US: evidence-us}}\n", "give one"},
		{"s3 retention not a period", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: GOVERNANCE, retention: soon, buckets: {NL: evidence-nl, US: evidence-us}}\n", "backends.storage: retention"},
		{"retention", "retention: {default: 7y, cases: {CASE-1: 30d, CASE-2: 72h, CASE-3: 2w}}\n", ""},
		{"retention without a unit", "retention: {default: 7}\n", "retention.default"},
		{"retention of no period", "retention: {default: ever}\n", "retention.default"},
		{"retention of zero days", "retention: {default: 0d}\n", "1s to 100y"},
		{"retention beyond a century", "retention: {default: 101y}\n", "1s to 100y"},
		{"retention that would overflow", "retention: {default: 4000000000y}\n", "1s to 100y"},
		{"retention of many weeks", "retention: {default: 4294967295w}\n", "1s to 100y"},
		{"negative retention", "retention: {default: -5h}\n", "retention.default"},
		{"retention of a bad case id", "retention: {cases: {a/b: 1y}}\n", "not a case id"},
		{"empty retention of a case", "retention: {cases: {CASE-1: \"\"}}\n", "retention.cases.CASE-1"},
		{"unknown retention key", "retention: {period: 1y}\n", "period"},
		{"s3 retention_days beyond a century", "backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: COMPLIANCE, retention_days: 36501, buckets: {NL: evidence-nl, US: evidence-us}}\n", "retention_days"},
		{"orphan grace", "uploads:\n  orphan_grace: 10m\n", ""},
		{"orphan grace negative", "uploads:\n  orphan_grace: -1s\n", "orphan_grace"},
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

// TestLimitsAndOps: the limits and the operations address come from the file, or
// are the documented defaults; an empty ops_listen disables the listener.
func TestLimitsAndOps(t *testing.T) {
	tests := []struct {
		name, yaml  string
		want        LimitsConfig
		ops         string
		opsExplicit bool
	}{
		{"defaults", "", LimitsConfig{BodyIdleTimeout: time.Minute, UploadsPerMember: 4, MaxUploads: 16, RequestsPerSecond: 20, RequestBurst: 40},
			"127.0.0.1:9464", false},
		{"set", "ops_listen: 0.0.0.0:9100\nlimits: {body_idle_timeout: 90s, uploads_per_member: 8, max_uploads: 64, requests_per_second: 5, request_burst: 12}\n",
			LimitsConfig{BodyIdleTimeout: 90 * time.Second, UploadsPerMember: 8, MaxUploads: 64, RequestsPerSecond: 5, RequestBurst: 12}, "0.0.0.0:9100", true},
		{"a rate above the default burst", "limits: {requests_per_second: 100}\n",
			LimitsConfig{BodyIdleTimeout: time.Minute, UploadsPerMember: 4, MaxUploads: 16, RequestsPerSecond: 100, RequestBurst: 100}, "127.0.0.1:9464", false},
		{"ops off", "ops_listen: \"\"\n", LimitsConfig{BodyIdleTimeout: time.Minute, UploadsPerMember: 4, MaxUploads: 16, RequestsPerSecond: 20, RequestBurst: 40}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o600)
			c, err := loadConfig(p)
			if err != nil {
				t.Fatal(err)
			}
			if c.Limits != tt.want {
				t.Errorf("got limits %+v, want %+v", c.Limits, tt.want)
			}
			if addr, explicit := c.opsAddr(); addr != tt.ops || explicit != tt.opsExplicit {
				t.Errorf("got ops address %q (set: %v), want %q (set: %v)", addr, explicit, tt.ops, tt.opsExplicit)
			}
		})
	}
	if got := defaultConfig().Limits; got != tests[0].want {
		t.Errorf("the embedded default has limits %+v, want %+v", got, tests[0].want)
	}
}

// TestDeployConfigsLoad: the gateway configurations of the production manifests
// (deploy/compose/gateway.yaml, the ConfigMap of deploy/k8s/gateway.yaml) load under
// the schema once the operator has filled in the log's tree id, with their operations
// listener off the API port.
func TestDeployConfigsLoad(t *testing.T) {
	k8s, err := os.ReadFile("../../deploy/k8s/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Kind string            `yaml:"kind"`
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.NewDecoder(bytes.NewReader(k8s)).Decode(&cm); err != nil || cm.Kind != "ConfigMap" || cm.Data["gateway.yaml"] == "" {
		t.Fatalf("deploy/k8s/gateway.yaml does not start with the ConfigMap holding gateway.yaml (%v)", err)
	}
	compose, err := os.ReadFile("../../deploy/compose/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	composeWitnesses, err := os.ReadFile("../../deploy/compose/witnesses.txt")
	if err != nil {
		t.Fatal(err)
	}
	witnesses := map[string]string{"deploy/compose/gateway.yaml": string(composeWitnesses), "deploy/k8s/gateway.yaml": cm.Data["witnesses.txt"]}
	for name, raw := range map[string]string{"deploy/compose/gateway.yaml": string(compose), "deploy/k8s/gateway.yaml": cm.Data["gateway.yaml"]} {
		filled := strings.Replace(raw, "tree_id: 0", "tree_id: 1", 1)
		if filled == raw {
			t.Errorf("%s: no tree_id: 0 placeholder", name)
		}
		// The witness policy, as shipped (placeholders: refused) and filled in.
		policy := filepath.Join(t.TempDir(), "witnesses.txt")
		filled = strings.Replace(filled, "policy_file: /etc/evidencegw/witnesses.txt", "policy_file: "+policy, 1)
		p := filepath.Join(t.TempDir(), "gateway.yaml")
		os.WriteFile(p, []byte(filled), 0o600)
		os.WriteFile(policy, []byte(witnesses[name]), 0o600)
		if _, err := loadConfig(p); err == nil || !strings.Contains(err.Error(), "CHANGE-ME") {
			t.Errorf("%s: the witness policy placeholders: got %v, want an error naming the placeholder", name, err)
		}
		text := witnesses[name]
		for _, w := range []string{"nl", "us", "de"} {
			text = strings.Replace(text, "CHANGE-ME-witness-"+w+"-vkey", cosignatureKey(t, "witness.example/"+w), 1)
		}
		os.WriteFile(policy, []byte(text), 0o600)
		c, err := loadConfig(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if addr, explicit := c.opsAddr(); !explicit || addr == "" || addr == c.Listen {
			t.Errorf("%s: ops_listen %q (set: %v), want one set apart from listen %q", name, addr, explicit, c.Listen)
		}
		if c.Witnesses.parsed == nil || len(c.Witnesses.parsed.Witnesses()) != 3 || custody.WitnessesFromPolicy(c.Witnesses.parsed).Quorum != 2 {
			t.Errorf("%s: the witness policy is not 2 of 3 witnesses", name)
		}
	}
}

// testWitnessKey is a witness's cosignature/v1 verifier key.
const testWitnessKey = "evidencegw.local/witness-nl+7a27d86b+BLsKEAwLOnstzzfM85wu2N7ngtTg1myPgkENDMltybb/"

// cosignatureKey returns a new witness's C2SP cosignature/v1 verifier key.
func cosignatureKey(t *testing.T, name string) string {
	t.Helper()
	_, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8443\nagencies:\n  - id: a\n    jurisdiction: NL\n"))
	f.Add([]byte("{"))
	f.Add([]byte("retention:\n  default: 10y\n  cases: {CASE-1: 30d, CASE-2: 72h}\n"))
	f.Add([]byte("backends:\n  storage: {type: s3, endpoint: h:9000, access_key: a, secret_key: s, retention_mode: GOVERNANCE, retention: 2s, buckets: {NL: b}}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "c.yaml")
		os.WriteFile(p, data, 0o600)
		loadConfig(p)
	})
}

func TestRetentionPeriods(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("retention: {default: 7y, cases: {CASE-1: 30d, CASE-2: 90s}}\n"), 0o600)
	c, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	if r := c.Retention.periods; r.Default != 7*365*day || r.Cases["CASE-1"] != 30*day || r.Cases["CASE-2"] != 90*time.Second {
		t.Errorf("periods = %+v, want 7y by default, 30d for CASE-1, 90s for CASE-2", r)
	}
	if d := defaultConfig().Retention.periods.Default; d != 3650*day {
		t.Errorf("default retention %s, want ten years", d)
	}
}
