package trillianlog_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/klog/v2"

	"github.com/evidencegw/evidencegw/ledger"
)

// BenchmarkAppendOpenLoop offers each log a fixed arrival rate of custody events (an
// open loop: an event arrives on schedule whether or not the earlier ones are done, as
// requests from many clients do), served by up to 1000 concurrent clients, and
// measures append-to-proof latency from each event's scheduled arrival (so time spent
// waiting for a free client counts), at increasing rates until the log saturates:
// it completes less than 80% of the offered rate or its p99 passes 1 s; the next
// rates of that log are skipped. events/s is the events over the time from the first
// proof to the last: the offered rate while the log keeps up, less once a backlog
// grows. Rates in events/s: EVIDENCEGW_BENCH_RATES
// (default 250,500,1000,2000,4000); seconds of arrivals at each rate:
// EVIDENCEGW_BENCH_SECONDS (default 5); the logs: EVIDENCEGW_BENCH_LOGS (default
// tessera,trillian). Each log is fresh, used by every rate of the
// run in turn.
//
//	go test ./ledger/trillianlog -run '^$' -bench AppendOpenLoop -benchtime 1x -timeout 30m
func BenchmarkAppendOpenLoop(b *testing.B) {
	rates := envInts(b, "EVIDENCEGW_BENCH_RATES", []int{250, 500, 1000, 2000, 4000})
	seconds := envInt(b, "EVIDENCEGW_BENCH_SECONDS", 5)
	const clients = 1000
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	kinds := []string{"tessera", "trillian"}
	if v := os.Getenv("EVIDENCEGW_BENCH_LOGS"); v != "" {
		kinds = strings.Split(v, ",")
	}
	for _, kind := range kinds {
		if kind != "tessera" && kind != "trillian" {
			b.Fatalf("EVIDENCEGW_BENCH_LOGS=%s: want tessera, trillian or both", os.Getenv("EVIDENCEGW_BENCH_LOGS"))
		}
		l := openBenchLog(b, kind, false)
		appendMany(b, l, [][]byte{randomLeaf(b)}, 1) // a fresh Trillian tree waits for the signer
		saturated := false
		for _, rate := range rates {
			b.Run(fmt.Sprintf("%s/rate=%d", kind, rate), func(b *testing.B) {
				if saturated {
					b.Skip("saturated at a lower rate")
				}
				var lat []time.Duration
				var elapsed time.Duration
				for b.Loop() {
					leaves := make([][]byte, rate*seconds)
					for i := range leaves {
						leaves[i] = randomLeaf(b)
					}
					l, first, last := openLoop(b, l, leaves, rate, clients)
					lat = append(lat, l...)
					elapsed += last.Sub(first)
				}
				slices.Sort(lat)
				done := float64(len(lat)) / elapsed.Seconds()
				p99 := lat[len(lat)*99/100]
				b.ReportMetric(float64(rate), "offered/s")
				b.ReportMetric(done, "events/s")
				b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
				b.ReportMetric(ms(p99), "p99-ms")
				b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
				if done < 0.8*float64(rate) || p99 > time.Second {
					saturated = true
				}
			})
		}
	}
}

// openLoop appends leaves[i] at start + i/rate, each on one of clients goroutines (an
// arrival waits for a free one), and returns each one's latency from its scheduled
// arrival to its inclusion proof, and the times of the first and last proofs.
func openLoop(b *testing.B, l ledger.Log, leaves [][]byte, rate, clients int) (lat []time.Duration, first, last time.Time) {
	ctx, cancel := context.WithTimeout(b.Context(), testTimeout)
	defer cancel()
	lat = make([]time.Duration, len(leaves))
	errs := make([]error, len(leaves))
	done := make([]time.Time, len(leaves))
	free := make(chan struct{}, clients)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range leaves {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		free <- struct{}{}
		wg.Go(func() {
			defer func() { <-free }()
			idx, cp, err := l.Append(ctx, leaves[i])
			if err == nil {
				_, err = l.InclusionProof(ctx, idx, cp.Size)
			}
			done[i] = time.Now()
			lat[i], errs[i] = done[i].Sub(due), err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b.Fatalf("event %d: %v", i, err)
		}
	}
	first, last = done[0], done[0]
	for _, t := range done {
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return lat, first, last
}

// envInts reads a comma-separated list of positive integers from the environment.
func envInts(b *testing.B, name string, def []int) []int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want positive integers separated by commas", name, s)
		}
		out = append(out, n)
	}
	return out
}
