package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Several gateways on one stack (docs/deploy.md, "Several gateways"): two gateway
// processes share MinIO, Vault and Trillian, each with its own data directory and
// listener, the same CAs. Both are driven at once on the same exhibit.

// startReplica starts a second gateway on the configuration base with a copy of g's
// data directory (its development CAs, so that both trust the same members), on a port
// of its own. It writes its own demo identities, which name its own address.
func startReplica(t *testing.T, g *gateway, base string) *gateway {
	t.Helper()
	data := filepath.Join(t.TempDir(), "replica")
	if out, err := exec.Command("cp", "-a", g.data, data).CombinedOutput(); err != nil {
		t.Fatalf("copying the data directory: %v\n%s", err, out)
	}
	return startGatewayWith(t, data, base)
}

// TestRealStackTwoGateways hammers one exhibit through two gateways at once: shares, a
// legal hold and its release, and parallel downloads under a grant of one. No
// acknowledged change is lost or recorded twice, the chain verifies, and exactly one
// download is delivered.
func TestRealStackTwoGateways(t *testing.T) {
	base, _ := loadStackConfig(t)
	a := startGatewayWith(t, "", base)
	b := startReplica(t, a, base)
	gws := []*gateway{a, b}

	file, content := writeRandomFile(t, 64<<10)
	id := strings.TrimSpace(a.must("investigator-nl", "upload", "-q", "--case", "CASE-REPLICAS", file))
	b.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/limit", "--expires", "30d", "--max-downloads", "1")
	a.must("partner-us", "accept", id)

	// Shares through both gateways, a hold through one and its release through the
	// other, and downloads split over both, all at once.
	const shares, downloads = 8, 12
	var (
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		acked              []string
		delivered, refused int
		failures           []string
	)
	fail := func(f string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(f, args...))
		mu.Unlock()
	}
	start := make(chan struct{})
	for i := range shares {
		basis := fmt.Sprintf("MLAT 2026/replica-%d", i)
		wg.Go(func() {
			<-start
			out, errOut, err := gws[i%2].run("investigator-nl", "share", id, "--to", "court-nl", "--legal-basis", basis, "--expires", "30d", "--view-only")
			if err != nil {
				fail("share %q: %v\n%s%s", basis, err, out, errOut)
				return
			}
			mu.Lock()
			acked = append(acked, basis)
			mu.Unlock()
		})
	}
	wg.Go(func() {
		<-start
		if out, errOut, err := a.run("investigator-nl", "hold", id, "--reason", "replicas"); err != nil {
			fail("hold: %v\n%s%s", err, out, errOut)
			return
		}
		if out, errOut, err := b.run("investigator-nl", "release", id, "--reason", "replicas"); err != nil {
			fail("release: %v\n%s%s", err, out, errOut)
		}
	})
	for i := range downloads {
		hc, url := gws[i%2].httpClient("partner-us")
		wg.Go(func() {
			<-start
			resp, err := hc.Get(url + "/v1/evidence/" + id + "/content")
			if err != nil {
				fail("download %d: %v", i, err)
				return
			}
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK && rerr == nil && bytes.Equal(body, content):
				mu.Lock()
				delivered++
				mu.Unlock()
			case resp.StatusCode == http.StatusForbidden && bytes.Contains(body, []byte("forbid-download-limit")):
				mu.Lock()
				refused++
				mu.Unlock()
			default:
				fail("download %d through gateway %d: %d %v %.200s", i, i%2, resp.StatusCode, rerr, body)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if delivered != 1 || refused != downloads-1 {
		t.Errorf("of %d downloads over two gateways under a grant of one: %d delivered, %d refused by the limit; want 1 and %d",
			downloads, delivered, refused, downloads-1)
	}

	// Each acknowledged share is in the chain exactly once, read through either gateway.
	for n, g := range gws {
		hist := historyOf(t, g, "investigator-nl", id)
		bases := map[string]int{}
		for _, ev := range hist.Events {
			if ev.Action == "share" {
				bases[ev.LegalBasis]++
			}
			if ev.Failure != "" {
				t.Errorf("gateway %d: event %d failed verification: %s", n, ev.Seq, ev.Failure)
			}
		}
		for _, basis := range acked {
			if c := bases[basis]; c != 1 {
				t.Errorf("gateway %d: the share %q is in the history %d times, want once", n, basis, c)
			}
		}
		counts := countActions(hist)
		if counts["share"] != len(acked)+1 || counts["legal-hold"] != 1 || counts["legal-hold-release"] != 1 {
			t.Errorf("gateway %d: history counts %v; want %d shares, one hold, one release", n, counts, len(acked)+1)
		}
	}
	// The chain verifies offline, as a court gets it.
	dir := t.TempDir()
	bundle, tr := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "tr.json")
	b.must("court-nl", "bundle", id, "-o", bundle)
	a.must("court-nl", "trust-root", "-o", tr)
	a.must("court-nl", "verify", bundle, "--trust-root", tr)
}
