package trillianlog_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/google/trillian"
	"github.com/transparency-dev/merkle/rfc6962"
)

// signerProc is the trillian_log_signer that deploy/local/up started.
type signerProc struct {
	pid     int
	exe     string
	args    []string // argv[1:] as it was started
	pidfile string
	logfile string
	health  string // URL of its /healthz
}

// findSigner finds the running signer from deploy/local's pid file and reads back the
// arguments it was started with, so that it can be restarted the same way.
func findSigner(t *testing.T) *signerProc {
	t.Helper()
	dir := stackDir()
	p := &signerProc{
		exe:     filepath.Join(dir, "bin", "trillian_log_signer"),
		pidfile: filepath.Join(dir, "run", "trillian_log_signer.pid"),
		logfile: filepath.Join(dir, "logs", "trillian_log_signer.log"),
	}
	b, err := os.ReadFile(p.pidfile)
	if err != nil {
		unavailable(t, "no signer started by deploy/local/up: %v", err)
	}
	if p.pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatalf("pid file %s: %v", p.pidfile, err)
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.pid)); err != nil || strings.TrimSuffix(exe, " (deleted)") != p.exe {
		unavailable(t, "pid %d from %s is not %s (%q, %v)", p.pid, p.pidfile, p.exe, exe, err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.pid))
	if err != nil {
		t.Fatal(err)
	}
	argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	p.args = argv[1:]
	for _, a := range p.args {
		if h, ok := strings.CutPrefix(a, "--http_endpoint="); ok {
			p.health = "http://" + h + "/healthz"
		}
	}
	if p.health == "" {
		unavailable(t, "signer started without --http_endpoint: %q", argv)
	}
	return p
}

// stop sends SIGTERM and waits for the process to go, as deploy/local's stop_service.
func (p *signerProc) stop(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(p.pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping signer pid %d: %v", p.pid, err)
	}
	for deadline := time.Now().Add(15 * time.Second); syscall.Kill(p.pid, 0) == nil; {
		if time.Now().After(deadline) {
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// start starts the signer as deploy/local's start_service does: its own session, no
// stdin, output appended to its log, pid in its pid file. Then it waits for /healthz.
func (p *signerProc) start(t *testing.T) {
	t.Helper()
	log, err := os.OpenFile(p.logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	fmt.Fprintf(log, "\n=== trillian_log_signer starting at %s (restarted by %s) ===\n", time.Now().Format(time.RFC3339), t.Name())
	cmd := exec.Command(p.exe, p.args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restarting signer: %v", err)
	}
	p.pid = cmd.Process.Pid
	go cmd.Wait() // reap it if it exits while the test runs
	if err := os.WriteFile(p.pidfile, []byte(strconv.Itoa(p.pid)+"\n"), 0o644); err != nil {
		t.Errorf("writing %s: %v", p.pidfile, err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(p.health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted signer (pid %d) not healthy at %s after 60s", p.pid, p.health)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSignerRestart restarts trillian_log_signer while appends run: every append must
// return, with distinct indexes, and the tree must hold each leaf exactly once. It
// stops a shared service, so it runs only with EVIDENCEGW_TEST_RESTART_SIGNER=1.
func TestSignerRestart(t *testing.T) {
	if os.Getenv("EVIDENCEGW_TEST_RESTART_SIGNER") != "1" {
		// scripts/test sets it; elsewhere the test would stop a service others use.
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run the signer restart test: set EVIDENCEGW_TEST_RESTART_SIGNER=1 (scripts/test does)")
		}
		t.Skip("restarts the stack's trillian_log_signer: set EVIDENCEGW_TEST_RESTART_SIGNER=1")
	}
	env := newEnv(t)
	if !env.fresh {
		unavailable(t, "needs a fresh tree to count leaves")
	}
	sig := findSigner(t)
	l, v, _ := env.newLog(t)

	const n, workers = 800, 32
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = randomLeaf(t)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	idx := make([]uint64, n)
	cps := make([]ledger.Checkpoint, n)
	errs := make([]error, n)
	var done atomic.Int64
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				idx[i], cps[i], errs[i] = l.Append(ctx, leaves[i])
				done.Add(1)
			}
		})
	}
	go func() {
		for i := range leaves {
			next <- i
			time.Sleep(time.Millisecond) // spread the appends over the restart
		}
		close(next)
	}()

	for done.Load() < n/4 {
		time.Sleep(10 * time.Millisecond)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			sig.start(t)
		}
	})
	sig.stop(t)
	t.Logf("signer stopped after %d of %d appends returned", done.Load(), n)
	time.Sleep(2 * time.Second)
	frozen := done.Load()
	sig.start(t)
	stopped = false
	t.Logf("signer restarted (pid %d); %d appends returned while it was down", sig.pid, frozen)
	restarted := time.Now()
	wg.Wait()
	t.Logf("all %d appends returned %v after the restart", n, time.Since(restarted).Round(time.Millisecond))

	for i := range leaves {
		if errs[i] != nil {
			t.Fatalf("Append(leaf %d) = %v", i, errs[i])
		}
		checkAppended(t, l, v, leaves[i], idx[i], cps[i].Note)
	}
	checkDistinct(t, idx)
	if got := env.size(t); got != n {
		t.Errorf("tree size = %d, want %d (one leaf per append)", got, n)
	}
	env.checkLeaves(t, leaves, idx)
}

// checkLeaves reads the whole tree and checks that each leaf is at its index, once.
func (e *trillianEnv) checkLeaves(t *testing.T, leaves [][]byte, idx []uint64) {
	t.Helper()
	size := e.size(t)
	byIndex := make(map[uint64][]byte, size)
	for start := uint64(0); start < size; {
		resp, err := e.client.GetLeavesByRange(t.Context(), &trillian.GetLeavesByRangeRequest{
			LogId: e.tree, StartIndex: int64(start), Count: int64(min(size-start, 500))})
		if err != nil || len(resp.GetLeaves()) == 0 {
			t.Fatalf("GetLeavesByRange(%d) = %v", start, err)
		}
		for _, lf := range resp.GetLeaves() {
			byIndex[uint64(lf.GetLeafIndex())] = lf.GetLeafValue()
		}
		start += uint64(len(resp.GetLeaves()))
	}
	seen := make(map[string]bool)
	for _, v := range byIndex {
		h := string(rfc6962.DefaultHasher.HashLeaf(v))
		if seen[h] {
			t.Errorf("leaf %x is in the tree twice", h)
		}
		seen[h] = true
	}
	for i, leaf := range leaves {
		if !bytes.Equal(byIndex[idx[i]], leaf) {
			t.Errorf("leaf %d is not at its index %d", i, idx[i])
		}
	}
}
