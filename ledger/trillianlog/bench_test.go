package trillianlog_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
	"github.com/evidencegw/evidencegw/ledger/trillianlog"
	"github.com/evidencegw/evidencegw/ledger/witness"
	"github.com/evidencegw/evidencegw/ledger/witness/witnesstest"
)

// BenchmarkAppend measures append-to-proof on both log implementations in one run:
// appenders goroutines append events leaves in all (defaults 64 and 2000; override with
// EVIDENCEGW_BENCH_APPENDERS and EVIDENCEGW_BENCH_EVENTS), each timing Append plus the
// InclusionProof against the checkpoint Append returned, as the ledger does.
//
//	go test ./ledger/trillianlog -run '^$' -bench Append -benchtime 1x -count 3
func BenchmarkAppend(b *testing.B) {
	appenders, events := envInt(b, "EVIDENCEGW_BENCH_APPENDERS", 64), envInt(b, "EVIDENCEGW_BENCH_EVENTS", 2000)
	// Tessera logs through klog; keep the benchmark lines readable.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	b.Run("tessera", func(b *testing.B) {
		s, v := keys(b, "evidencegw.test/bench-tessera")
		l, err := tesseralog.New(b.Context(), tesseralog.Config{Dir: b.TempDir(), Signer: s, Verifier: v, Checkpoints: ledgertest.NewMemCheckpoints()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close(context.Background()) })
		benchAppend(b, l, appenders, events)
	})
	b.Run("trillian", func(b *testing.B) {
		env := newEnv(b)
		s, v := keys(b, "evidencegw.test/bench-trillian")
		benchAppend(b, env.open(b, s, v, ledgertest.NewMemCheckpoints()), appenders, events)
	})
}

func benchAppend(b *testing.B, l ledger.Log, appenders, events int) {
	// Warm up: a fresh Trillian tree waits for the signer to pick it up.
	appendMany(b, l, [][]byte{randomLeaf(b)}, 1)
	leaves := make([][]byte, events)
	var lat []time.Duration
	var total time.Duration
	for b.Loop() {
		for i := range leaves {
			leaves[i] = randomLeaf(b)
		}
		start := time.Now()
		lat = append(lat, appendMany(b, l, leaves, appenders)...)
		total += time.Since(start)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/total.Seconds(), "events/s")
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}

// appendMany appends leaves with the given concurrency and returns each one's
// append-to-proof latency.
func appendMany(b *testing.B, l ledger.Log, leaves [][]byte, appenders int) []time.Duration {
	ctx, cancel := context.WithTimeout(b.Context(), testTimeout)
	defer cancel()
	lat := make([]time.Duration, len(leaves))
	errs := make([]error, len(leaves))
	next := make(chan int)
	var wg sync.WaitGroup
	for range appenders {
		wg.Go(func() {
			for i := range next {
				t0 := time.Now()
				idx, cp, err := l.Append(ctx, leaves[i])
				if err == nil {
					_, err = l.InclusionProof(ctx, idx, cp.Size)
				}
				lat[i], errs[i] = time.Since(t0), err
			}
		})
	}
	for i := range leaves {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("event %d: %v", i, err)
		}
	}
	return lat
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// BenchmarkAppendWitnessed measures append-to-cosigned-proof with the three witnesses
// of the local stack (deploy/local/up), quorum 2 of 3, beside the same run without
// witnesses, on both logs, at 50 and 500 concurrent appenders (events leaves each run:
// EVIDENCEGW_BENCH_EVENTS, default 2000):
//
//	go test ./ledger/trillianlog -run '^$' -bench AppendWitnessed -benchtime 1x -count 2
func BenchmarkAppendWitnessed(b *testing.B) {
	events := envInt(b, "EVIDENCEGW_BENCH_EVENTS", 2000)
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	for _, appenders := range []int{50, 500} {
		// Each log without and then with witnesses, one after the other, so that the
		// two runs of a pair share the machine's load of the moment.
		for _, log := range []string{"tessera", "trillian"} {
			for _, witnessed := range []bool{false, true} {
				w := "none"
				if witnessed {
					w = "2of3"
				}
				b.Run(fmt.Sprintf("%s/appenders=%d/witnesses=%s", log, appenders, w), func(b *testing.B) {
					benchAppend(b, openBenchLog(b, log, witnessed), appenders, events)
				})
			}
		}
	}
}

// openBenchLog opens a fresh log of the kind named, with the stack's witnesses if
// witnessed.
func openBenchLog(b *testing.B, kind string, witnessed bool) ledger.Log {
	s, v, policy := benchKeys(b, kind, witnessed)
	if kind == "tessera" {
		cfg := tesseralog.Config{Dir: b.TempDir(), Signer: s, Verifier: v, Checkpoints: ledgertest.NewMemCheckpoints()}
		if policy != nil {
			g := witnesstest.Group(b, policy)
			cfg.Witnesses = &g
		}
		l, err := tesseralog.New(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close(context.Background()) })
		return l
	}
	env := newEnv(b)
	cfg := trillianlog.Config{Address: env.addr, TreeID: env.tree, Signer: s, Verifier: v, Checkpoints: ledgertest.NewMemCheckpoints()}
	if policy != nil {
		cfg.Witnesses = witness.New(witness.Config{Policy: witnesstest.Group(b, policy)})
	}
	l, err := trillianlog.New(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// benchKeys returns a fresh checkpoint key and, if witnessed, the policy of the stack's
// witnesses after registering the key's log with them.
func benchKeys(b *testing.B, name string, witnessed bool) (note.Signer, note.Verifier, []byte) {
	origin := fmt.Sprintf("evidencegw.test/bench-%s-%d", name, time.Now().UnixNano())
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	if !witnessed {
		return s, v, nil
	}
	return s, v, witnesstest.StackPolicy(b, origin, vkey)
}
