// Package witnesstest runs real C2SP tlog-witness witnesses for tests: litewitness
// processes (filippo.io/torchwood) from the binary deploy/local/up installs, each
// started by the test with its own key, ssh-agent, database and loopback port, or the
// three witnesses of the local stack itself.
//
// Where the binary or the stack is missing the tests skip, or fail under CI=true (CI
// runs deploy/local/up first). It is for tests only: it runs programs and writes the
// witnesses' databases.
package witnesstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"
)

// StackDir is deploy/local's state directory.
func StackDir() string {
	if d := os.Getenv("EVIDENCEGW_STACK_DIR"); d != "" {
		return d
	}
	return "/var/lib/evidencegw-stack"
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("witnesses unavailable (CI=true): "+format, args...)
	}
	t.Skipf("witnesses unavailable (run deploy/local/up): "+format, args...)
}

// Witness is one litewitness process started by the test.
type Witness struct {
	// Name is the witness's own name (in its cosignatures); VKey its C2SP
	// cosignature/v1 verifier key; URL where it listens.
	Name, VKey, URL string

	t      testing.TB
	dir    string
	addr   string
	sock   string
	finger string
	cmd    *exec.Cmd
	agent  *exec.Cmd
}

// Start starts a litewitness named name (a path-like name, e.g. "test/w1") with a new
// key, in a temporary directory; it is stopped at the end of the test.
func Start(t testing.TB, name string) *Witness {
	t.Helper()
	bin := filepath.Join(StackDir(), "bin", "litewitness")
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "no litewitness binary: %v", err)
	}
	for _, tool := range []string{"ssh-agent", "ssh-keygen", "ssh-add", "sqlite3"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s not found", tool)
		}
	}
	dir, err := os.MkdirTemp("", "witness-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	w := &Witness{t: t, dir: dir, Name: name, sock: filepath.Join(dir, "agent.sock")}
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", filepath.Join(dir, "key"))
	w.finger = strings.Fields(run(t, "ssh-keygen", "-lf", filepath.Join(dir, "key.pub"), "-E", "sha256"))[1]
	w.agent = exec.Command("ssh-agent", "-D", "-a", w.sock)
	if err := w.agent.Start(); err != nil {
		t.Fatalf("starting ssh-agent: %v", err)
	}
	t.Cleanup(func() { w.agent.Process.Kill(); w.agent.Wait() })
	waitFor(t, "ssh-agent socket", func() bool { _, err := os.Stat(w.sock); return err == nil })
	cmd := exec.Command("ssh-add", "-q", filepath.Join(dir, "key"))
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+w.sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}
	w.addr = freeAddr(t)
	w.URL = "http://" + w.addr
	w.start()
	t.Cleanup(w.Stop)
	return w
}

// start runs litewitness and waits until it answers and logged its key.
func (w *Witness) start() {
	t := w.t
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(w.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	w.cmd = exec.Command(filepath.Join(StackDir(), "bin", "litewitness"), "-db", filepath.Join(w.dir, "db"),
		"-name", w.Name, "-key", w.finger, "-ssh-agent", w.sock, "-listen", w.addr)
	w.cmd.Stdout, w.cmd.Stderr = logf, logf
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("starting litewitness: %v", err)
	}
	waitFor(t, "litewitness "+w.Name, func() bool {
		resp, err := http.Post(w.URL+"/add-checkpoint", "text/plain", strings.NewReader(""))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusBadRequest
	})
	log, _ := os.ReadFile(filepath.Join(w.dir, "log"))
	m := vkeyRe.FindAllSubmatch(log, -1)
	if len(m) == 0 {
		t.Fatalf("litewitness %s logged no verifier key:\n%s", w.Name, log)
	}
	w.VKey = string(m[len(m)-1][1])
}

var vkeyRe = regexp.MustCompile(`msg="verifier key" vkey="?([^" \n]+)`)

// Stop stops the witness (its database stays, for Restart).
func (w *Witness) Stop() {
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	w.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		w.cmd.Process.Kill()
		<-done
	}
	w.cmd = nil
}

// Restart stops the witness and starts it again on the same database, key and port.
func (w *Witness) Restart() {
	w.t.Helper()
	w.Stop()
	w.start()
}

// AddLog registers a log (its origin and note verifier key) with the witness, from the
// empty tree, as witnessctl add-log does.
func (w *Witness) AddLog(origin, vkey string) {
	w.t.Helper()
	addLog(w.t, filepath.Join(w.dir, "db"), origin, vkey)
}

// Line returns the witness's line of a policy file, under the given policy name.
func (w *Witness) Line(name string) string {
	return fmt.Sprintf("witness %s %s %s", name, w.VKey, w.URL)
}

// Policy returns a policy text in which k of the witnesses must cosign.
func Policy(k int, ws ...*Witness) []byte {
	var b bytes.Buffer
	var names []string
	for i, w := range ws {
		n := fmt.Sprintf("w%d", i+1)
		names = append(names, n)
		fmt.Fprintln(&b, w.Line(n))
	}
	fmt.Fprintf(&b, "group g %d %s\nquorum g\n", k, strings.Join(names, " "))
	return b.Bytes()
}

// Group parses a policy text as Tessera does.
func Group(t testing.TB, policy []byte) tessera.WitnessGroup {
	t.Helper()
	g, err := tessera.NewWitnessGroupFromPolicy(policy)
	if err != nil {
		t.Fatalf("parsing witness policy: %v\n%s", err, policy)
	}
	return g
}

// StackPolicy returns the policy of the local stack's three witnesses (written by
// deploy/local/up) after registering the log with them through
// deploy/local/witness-add-log.
func StackPolicy(t testing.TB, origin, vkey string) []byte {
	t.Helper()
	policy, err := os.ReadFile(filepath.Join(StackDir(), "witness", "policy"))
	if err != nil {
		unavailable(t, "no stack witness policy: %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "deploy", "local", "witness-add-log")
	cmd := exec.Command(script, origin, vkey)
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable(t, "registering %s with the stack's witnesses: %v: %s", origin, err, out)
	}
	return policy
}

// addLog inserts the log into a litewitness database with the sqlite3 CLI.
func addLog(t testing.TB, db, origin, vkey string) {
	t.Helper()
	if strings.ContainsAny(origin+vkey, "'\n") {
		t.Fatalf("origin or key with a quote or newline")
	}
	sql := fmt.Sprintf(`PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS log (origin TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, tree_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS key (origin TEXT NOT NULL, key TEXT NOT NULL, FOREIGN KEY(origin) REFERENCES log(origin));
INSERT OR IGNORE INTO log (origin, tree_size, tree_hash) VALUES ('%s', 0, '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
INSERT INTO key (origin, key) VALUES ('%s', '%s');`, origin, origin, vkey)
	run(t, "sqlite3", "-cmd", ".timeout 5000", db, sql)
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, errors.New("timed out"))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
