package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"go.yaml.in/yaml/v3"
)

// The real-stack tests run the gateway on MinIO, Vault and Trillian as started by
// deploy/local/up, whose last line is the config path given in EVIDENCEGW_STACK_CONFIG
// (scripts/test sets it). Without it they skip, except in CI, where they fail.

// stackConfig is the part of the gateway configuration (docs/config.md) that the
// real-stack tests read to reach MinIO directly.
type stackConfig struct {
	Backends struct {
		Storage stackStorage `yaml:"storage"`
	} `yaml:"backends"`
}

type stackStorage struct {
	Endpoint      string            `yaml:"endpoint"`
	Secure        bool              `yaml:"secure"`
	AccessKey     string            `yaml:"access_key"`
	SecretKey     string            `yaml:"secret_key"`
	CustodyBucket string            `yaml:"custody_bucket"`
	Buckets       map[string]string `yaml:"buckets"`
}

// parseStackConfig reads the stack's configuration file.
func parseStackConfig(raw []byte) (stackConfig, error) {
	var c stackConfig
	err := yaml.Unmarshal(raw, &c)
	if c.Backends.Storage.CustodyBucket == "" {
		c.Backends.Storage.CustodyBucket = "evidence-custody"
	}
	return c, err
}

func loadStackConfig(t *testing.T) (string, stackConfig) {
	t.Helper()
	path := os.Getenv("EVIDENCEGW_STACK_CONFIG")
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("EVIDENCEGW_STACK_CONFIG is not set: CI must start the real stack with deploy/local/up")
		}
		t.Skip("EVIDENCEGW_STACK_CONFIG not set: run deploy/local/up and point it at the config it prints")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseStackConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw), cfg
}

func startRealStack(t *testing.T) (*gateway, stackConfig) {
	base, cfg := loadStackConfig(t)
	return startGatewayWith(t, "", base), cfg
}

func TestRealStackWalkthrough(t *testing.T) {
	g, _ := startRealStack(t)
	walkthrough(t, g)
}

// TestRealStackNoPlaintextStored reads the stored objects straight from MinIO and
// looks for the uploaded bytes.
func TestRealStackNoPlaintextStored(t *testing.T) {
	g, cfg := startRealStack(t)
	marker := bytes.Repeat([]byte("EVIDENCE-PLAINTEXT-MARKER-"), 40000) // ~1 MiB, several segments
	file := filepath.Join(t.TempDir(), "marked.bin")
	os.WriteFile(file, marker, 0o600)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-P", "--json", file), "evidence_id")

	mc := minioClient(t, cfg)
	sc := cfg.Backends.Storage
	found := 0
	for _, bucket := range []string{sc.Buckets["NL"], sc.CustodyBucket} {
		for obj := range mc.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			if !strings.Contains(obj.Key, id) {
				continue
			}
			found++
			o, err := mc.GetObject(t.Context(), bucket, obj.Key, minio.GetObjectOptions{VersionID: obj.VersionID})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(o)
			o.Close()
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte("EVIDENCE-PLAINTEXT-MARKER")) {
				t.Errorf("object %s/%s holds plaintext", bucket, obj.Key)
			}
		}
	}
	if found < 3 {
		t.Fatalf("found %d stored objects of %s, want content, data key and events", found, id)
	}
}

func minioClient(t *testing.T, cfg stackConfig) *minio.Client {
	t.Helper()
	sc := cfg.Backends.Storage
	mc, err := minio.New(sc.Endpoint, &minio.Options{Creds: credentialsFor(sc), Secure: sc.Secure})
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

// maxRotationUploads bounds the uploads made while the keys rotate. A rotation rewraps
// every data key of the stack's store, which other tests share and fill: unbounded, the
// uploads would go on for as long as it takes, and the checks after it with them.
const maxRotationUploads = 40

// TestRealStackKeyRotationLosesNothing rotates the key-encryption keys while uploads and
// downloads run, then checks every item downloads intact and its bundle verifies.
func TestRealStackKeyRotationLosesNothing(t *testing.T) {
	g, _ := startRealStack(t)
	hc, base := g.httpClient("investigator-nl")
	type item struct {
		id      string
		content []byte
	}
	var mu sync.Mutex
	var items []item
	upload := func() error {
		b := make([]byte, 256<<10)
		rand.Read(b)
		id, err := httpUpload(hc, base, b)
		if err != nil {
			return err
		}
		mu.Lock()
		items = append(items, item{id, b})
		mu.Unlock()
		return nil
	}
	for range 4 {
		if err := upload(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // uploads, a bounded number: the rotation's time grows with the store
		defer wg.Done()
		for n := 0; n < maxRotationUploads && ctx.Err() == nil; n++ {
			if err := upload(); err != nil {
				errc <- fmt.Errorf("upload during rotation: %w", err)
				return
			}
		}
	}()
	go func() { // downloads of the first items
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			mu.Lock()
			it := items[i%4]
			mu.Unlock()
			if err := httpDownload(hc, base, it.id, it.content); err != nil {
				errc <- fmt.Errorf("download during rotation: %w", err)
				return
			}
		}
	}()
	out, err := exec.Command(binary(t), "keys", "rotate", "--config", g.config, "--data", g.data, "--operator", "e2e").CombinedOutput()
	cancel()
	wg.Wait()
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if !strings.Contains(string(out), "data keys rewrapped") {
		t.Errorf("keys rotate output: %s", out)
	}
	for _, it := range items {
		if err := httpDownload(hc, base, it.id, it.content); err != nil {
			t.Errorf("after rotation: %v", err)
		}
	}
	first := items[0].id
	if hist := g.must("investigator-nl", "history", first); !strings.Contains(hist, "key-rewrap") {
		t.Errorf("history of %s lacks the key-rewrap event:\n%s", first, hist)
	}
	dir := t.TempDir()
	g.must("investigator-nl", "bundle", first, "-o", filepath.Join(dir, "b.json"))
	g.must("investigator-nl", "trust-root", "-o", filepath.Join(dir, "tr.json"))
	g.must("", "verify", filepath.Join(dir, "b.json"), "--trust-root", filepath.Join(dir, "tr.json"))
}

func httpUpload(hc *http.Client, base string, b []byte) (string, error) {
	sum := sha256Sum(b)
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/evidence?case_id=CASE-R", bytes.NewReader(b))
	req.Header.Set("Content-Digest", "sha-256=:"+sum+":")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var res struct {
		Evidence struct {
			EvidenceID string `json:"evidence_id"`
		} `json:"evidence"`
	}
	if resp.StatusCode != http.StatusCreated {
		body, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return "", err
	}
	return res.Evidence.EvidenceID, nil
}

func httpDownload(hc *http.Client, base, id string, want []byte) error {
	resp, err := hc.Get(base + "/v1/evidence/" + id + "/content")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, want) {
		return fmt.Errorf("%s: status %d, %d bytes, content equal %v", id, resp.StatusCode, len(b), bytes.Equal(b, want))
	}
	return nil
}

// TestRealStackVaultOutage stops Vault mid-run: requests get 503 quickly, and work again
// once it is back.
func TestRealStackVaultOutage(t *testing.T) {
	g, _ := startRealStack(t)
	hc, base := g.httpClient("investigator-nl")
	if _, err := httpUpload(hc, base, []byte("before the outage")); err != nil {
		t.Fatal(err)
	}
	// Stop the Vault server for real, and bring it back with the deploy script.
	stop := exec.Command("bash", "-c", `pid=$(cat "${EVIDENCEGW_STACK_DIR:-/var/lib/evidencegw-stack}/run/vaultdev.pid") && kill "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done`)
	if out, err := stop.CombinedOutput(); err != nil {
		t.Fatalf("stopping vault: %v %s", err, out)
	}
	restarted := false
	resume := func() {
		if !restarted {
			restarted = true
			if out, err := exec.Command("../deploy/local/up").CombinedOutput(); err != nil {
				t.Errorf("restarting the stack: %v\n%s", err, out)
			}
		}
	}
	defer resume()
	start := time.Now()
	_, err := httpUpload(hc, base, []byte("during the outage"))
	if err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Errorf("upload with Vault stopped: got %v, want a 503", err)
	}
	t.Logf("refused after %v", time.Since(start))
	resume()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := httpUpload(hc, base, []byte("after the outage"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after Vault returned: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func credentialsFor(sc stackStorage) *credentials.Credentials {
	return credentials.NewStaticV4(sc.AccessKey, sc.SecretKey, "")
}

// TestRealStackEventKeyRotation rotates the custody event key in Vault while the gateway
// runs: the next events are signed with the new version, and the whole chain verifies
// under the new trust root, which lists both versions with their periods.
func TestRealStackEventKeyRotation(t *testing.T) {
	g, _ := startRealStack(t)
	dir := t.TempDir()
	file, _ := writeRandomFile(t, 4096)
	id := jsonField(t, g.must("investigator-nl", "upload", "--case", "CASE-EK", "--json", file), "evidence_id")
	out, err := exec.Command(binary(t), "keys", "rotate", "--event-key", "--config", g.config, "--data", g.data).CombinedOutput()
	if err != nil {
		t.Fatalf("keys rotate --event-key: %v\n%s", err, out)
	}
	g.must("investigator-nl", "hold", id, "--reason", "after the rotation")
	bundle, trust := filepath.Join(dir, "b.json"), filepath.Join(dir, "tr.json")
	g.must("investigator-nl", "bundle", id, "-o", bundle)
	g.must("investigator-nl", "trust-root", "-o", trust)
	tr := readTrustRoot(t, trust)
	rep := verifyFile(t, bundle, tr)
	if first, last := rep.Events[0].KeyID, rep.Events[len(rep.Events)-1].KeyID; first == last {
		t.Errorf("events before and after the rotation were signed by the same key %s", first)
	}
}
