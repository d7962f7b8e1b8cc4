package trillianlog_test

import (
	"context"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
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
