package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger/witness/witnesstest"
)

// logOrigin is the gateway's default log origin (cmd/evidencegw DefaultLogOrigin).
const logOrigin = "evidencegw.local/custody"

// TestWitnessedGateway runs the gateway with three real witnesses, quorum 2 of 3: the
// bundles' checkpoints carry their cosignatures and the trust root their policy; a
// court's own policy accepts them, and a court policy naming a key no witness holds
// rejects them; with two witnesses down a change is answered 503 witness-quorum with
// Retry-After, and works again once a witness is back.
func TestWitnessedGateway(t *testing.T) {
	w1, w2, w3 := witnesstest.Start(t, "witness.test/nl"), witnesstest.Start(t, "witness.test/us"), witnesstest.Start(t, "witness.test/de")
	data := t.TempDir()
	// The gateway's checkpoint key is made before it starts, so that the witnesses
	// know the log from its first (empty) checkpoint on.
	km, err := keys.OpenLocal(filepath.Join(data, "keys"), logOrigin)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []*witnesstest.Witness{w1, w2, w3} {
		w.AddLog(logOrigin, km.CheckpointVerifierKey())
	}
	dir := t.TempDir()
	policy := filepath.Join(dir, "gateway-witnesses.txt")
	if err := os.WriteFile(policy, witnesstest.Policy(2, w1, w2, w3), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGatewayWith(t, data, fmt.Sprintf("witnesses:\n  policy_file: %s\n  timeout: 2s\n", policy))

	ev, _ := writeRandomFile(t, 4096)
	id := strings.TrimSpace(g.must("investigator-nl", "upload", "-q", "--case", "CASE-W", ev))
	g.must("investigator-nl", "share", id, "--to", "court-nl", "--legal-basis", "court order 1", "--expires", "30d", "--view-only")
	bundle, trustRoot := filepath.Join(dir, "bundle.json"), filepath.Join(dir, "trust-root.json")
	g.must("court-nl", "bundle", id, "-o", bundle)
	g.must("court-nl", "trust-root", "-o", trustRoot)
	tr, err := os.ReadFile(trustRoot)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tr), `"quorum": 2`) || !strings.Contains(string(tr), w1.VKey) {
		t.Errorf("the trust root does not carry the witness policy:\n%s", tr)
	}

	court := func(name string, text []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, text, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The court's own choice: two of the three, without their URLs.
	own := court("court-witnesses.txt", []byte(fmt.Sprintf("witness nl %s\nwitness us %s\nwitness de %s\ngroup g 2 nl us de\nquorum g\n", w1.VKey, w2.VKey, w3.VKey)))
	g.must("court-nl", "verify", bundle, "--trust-root", trustRoot, "--witness-policy", own)
	stranger := witnesstest.Start(t, "witness.test/stranger")
	unheld := court("unheld.txt", []byte(fmt.Sprintf("witness s %s\nquorum s\n", stranger.VKey)))
	g.fails("court-nl", exitVerificationFailed, "no cosignature of a witness of the policy", "verify", bundle, "--trust-root", trustRoot, "--witness-policy", unheld)

	// Two witnesses down: the quorum cannot be met and the gateway says so.
	w2.Stop()
	w3.Stop()
	hc, base := g.httpClient("investigator-nl")
	body, _ := json.Marshal(api.ShareRequest{To: "agency-us", LegalBasis: "MLAT 2026/9", Expires: time.Now().Add(24 * time.Hour)})
	resp, err := hc.Post(base+"/v1/evidence/"+id+"/grants", api.JSONMediaType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var p api.Problem
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || p.Kind() != api.ProblemWitnessQuorum || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("share with two witnesses down: got %d %s (Retry-After %q), want 503 witness-quorum with Retry-After\n%s",
			resp.StatusCode, p.Type, resp.Header.Get("Retry-After"), g.logs())
	}
	if !strings.Contains(g.logs(), "witness quorum not met") {
		t.Errorf("the gateway did not log the missing quorum")
	}

	// One back: 2 of 3 again.
	w2.Restart()
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/10", "--expires", "30d")
	later := filepath.Join(dir, "later-bundle.json")
	g.must("court-nl", "bundle", id, "-o", later)
	g.must("court-nl", "verify", later, "--trust-root", trustRoot, "--witness-policy", own)

	// The operator makes the policy stricter (all three): the trust root changes, and
	// the change is logged as version 2, which a court that pinned version 1 reaches
	// only through the chain.
	w3.Restart()
	g.stop()
	if err := os.WriteFile(policy, witnesstest.Policy(3, w1, w2, w3), 0o600); err != nil {
		t.Fatal(err)
	}
	g.start()
	trustRoot2, chain := filepath.Join(dir, "trust-root-2.json"), filepath.Join(dir, "chain.json")
	g.must("court-nl", "trust-root", "-o", trustRoot2, "--chain", chain)
	if tr2, _ := os.ReadFile(trustRoot2); !strings.Contains(string(tr2), `"version": 2`) || !strings.Contains(string(tr2), `"quorum": 3`) {
		t.Fatalf("the trust root after the policy change is not version 2 with quorum 3:\n%s", tr2)
	}
	g.must("investigator-nl", "share", id, "--to", "agency-us", "--legal-basis", "MLAT 2026/11", "--expires", "30d")
	newest := filepath.Join(dir, "newest-bundle.json")
	g.must("court-nl", "bundle", id, "-o", newest)
	g.must("court-nl", "verify", newest, "--trust-root", trustRoot, "--trust-root-chain", chain, "--witness-policy", own)
	// A chain from which the change is removed does not lead there: the bundle is
	// checked against version 1, which it meets too, but a chain that lies fails.
	raw, _ := os.ReadFile(chain)
	forged := filepath.Join(dir, "forged-chain.json")
	os.WriteFile(forged, []byte(strings.Replace(string(raw), `"proof": "c2sp.org/tlog-proof@v1\nindex `, `"proof": "c2sp.org/tlog-proof@v1\nindex 1`, 1)), 0o600)
	g.fails("court-nl", exitVerificationFailed, "trust root chain", "verify", newest, "--trust-root", trustRoot, "--trust-root-chain", forged)
}
