package trillianlog_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/trillian"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/trillianlog"
)

// The tests run against a real Trillian log server and signer, such as the ones
// deploy/local/up starts:
//
//	EVIDENCEGW_TRILLIAN_ADDR     gRPC address of trillian_log_server (default 127.0.0.1:8090)
//	EVIDENCEGW_TRILLIAN_TREE_ID  a LOG tree to use; if unset each test creates a fresh
//	                             tree (deleted at the end), or, if that fails, uses
//	                             the stack's tree ($EVIDENCEGW_STACK_DIR/trillian/tree-id)
//	EVIDENCEGW_STACK_DIR         deploy/local's state directory (default /var/lib/evidencegw-stack)
//
// If Trillian is unreachable the tests skip, or fail when CI=true.

const defaultAddr = "127.0.0.1:8090" // TRILLIAN_RPC in deploy/local/lib.sh

// testTimeout bounds each test's waits on Trillian.
const testTimeout = 2 * time.Minute

func stackDir() string {
	if d := os.Getenv("EVIDENCEGW_STACK_DIR"); d != "" {
		return d
	}
	return "/var/lib/evidencegw-stack"
}

func trillianAddr() string {
	if a := os.Getenv("EVIDENCEGW_TRILLIAN_ADDR"); a != "" {
		return a
	}
	return defaultAddr
}

// unavailable skips the test, or fails it on CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("trillian unavailable (CI=true): "+format, args...)
	}
	t.Skipf("trillian unavailable (set EVIDENCEGW_TRILLIAN_ADDR or run deploy/local/up): "+format, args...)
}

// trillianEnv is a connection to the test Trillian and a tree for one test.
type trillianEnv struct {
	addr   string
	tree   int64
	fresh  bool // tree created for this test: it holds only the test's leaves
	client trillian.TrillianLogClient
}

func newEnv(t testing.TB) *trillianEnv {
	t.Helper()
	addr := trillianAddr()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s) = %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	env := &trillianEnv{addr: addr, client: trillian.NewTrillianLogClient(conn)}
	admin := trillian.NewTrillianAdminClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := admin.ListTrees(ctx, &trillian.ListTreesRequest{}); err != nil {
		unavailable(t, "listing trees at %s: %v", addr, err)
	}
	if s := os.Getenv("EVIDENCEGW_TRILLIAN_TREE_ID"); s != "" {
		if env.tree, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("EVIDENCEGW_TRILLIAN_TREE_ID=%q: %v", s, err)
		}
		return env
	}
	if env.tree, err = createTree(t, admin, env.client); err == nil {
		env.fresh = true
		return env
	}
	t.Logf("creating a fresh tree: %v; using the stack's tree", err)
	b, rerr := os.ReadFile(filepath.Join(stackDir(), "trillian", "tree-id"))
	if rerr != nil {
		unavailable(t, "no tree: %v; %v", err, rerr)
	}
	if env.tree, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
		t.Fatalf("stack tree id %q: %v", b, err)
	}
	return env
}

// createTree creates and initialises a LOG tree, deleted when the test ends.
func createTree(t testing.TB, admin trillian.TrillianAdminClient, log trillian.TrillianLogClient) (int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tree, err := admin.CreateTree(ctx, &trillian.CreateTreeRequest{Tree: &trillian.Tree{
		TreeState:       trillian.TreeState_ACTIVE,
		TreeType:        trillian.TreeType_LOG,
		DisplayName:     "evidencegw-test",
		Description:     t.Name(),
		MaxRootDuration: durationpb.New(time.Hour),
	}})
	if err != nil {
		return 0, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.DeleteTree(ctx, &trillian.DeleteTreeRequest{TreeId: tree.TreeId}); err != nil {
			t.Logf("deleting test tree %d: %v", tree.TreeId, err)
		}
	})
	if _, err := log.InitLog(ctx, &trillian.InitLogRequest{LogId: tree.TreeId}); err != nil {
		return 0, err
	}
	for {
		if _, err := log.GetLatestSignedLogRoot(ctx, &trillian.GetLatestSignedLogRootRequest{LogId: tree.TreeId}); err == nil {
			return tree.TreeId, nil
		} else if ctx.Err() != nil {
			return 0, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys returns a fresh checkpoint key pair.
func keys(t testing.TB, origin string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// open opens the env's tree with the given keys and store.
func (e *trillianEnv) open(t testing.TB, s note.Signer, v note.Verifier, st ledger.CheckpointStore) *trillianlog.Log {
	t.Helper()
	l, err := trillianlog.New(t.Context(), trillianlog.Config{
		Address: e.addr, TreeID: e.tree, Signer: s, Verifier: v, Checkpoints: st,
	})
	if err != nil {
		t.Fatalf("trillianlog.New = %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(context.Background()); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return l
}

// newLog opens the env's tree with fresh keys and an in-memory store.
func (e *trillianEnv) newLog(t testing.TB) (*trillianlog.Log, note.Verifier, *ledgertest.MemCheckpoints) {
	t.Helper()
	s, v := keys(t, "evidencegw.test/trillian")
	st := ledgertest.NewMemCheckpoints()
	return e.open(t, s, v, st), v, st
}

// size returns the tree's current size as Trillian reports it.
func (e *trillianEnv) size(t testing.TB) uint64 {
	t.Helper()
	resp, err := e.client.GetLatestSignedLogRoot(t.Context(), &trillian.GetLatestSignedLogRootRequest{LogId: e.tree})
	if err != nil {
		t.Fatalf("GetLatestSignedLogRoot = %v", err)
	}
	return logRootSize(t, resp.GetSignedLogRoot())
}
