package exhibit_test

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// longChain returns an Env and an exhibit whose chain has about n events, as a long-lived
// exhibit gathers them: a few grants accepted by the partner, downloads with their
// receipts, and the rest legal holds and releases (each a signed act). The partner's
// grant has no download limit.
func longChain(b *testing.B, env *exhibittest.Env, n int) string {
	b.Helper()
	req := env.ShareRequest(exhibittest.AgencyUS)
	id, _ := env.Exchange(b, []byte("seized phone extraction"), req)
	for i := range 3 {
		env.Share(b, id, env.ShareRequest([]string{exhibittest.CourtNL, exhibittest.AgencyDE, exhibittest.CourtNL}[i]))
	}
	held := false
	for i := 0; env.Show(b, env.Investigator, id).EventCount < n; i++ {
		switch {
		case i%50 == 0:
			_, c := env.Download(b, env.Partner, id)
			if _, err := env.Service.Received(b.Context(), env.ReceivedAct(b, env.Partner, id, c.Custody, env.Show(b, env.Investigator, id).SHA256, c.Size), id); err != nil {
				b.Fatal(err)
			}
		default:
			held = !held
			on, why := held, "review "+strconv.Itoa(i)
			if _, err := env.Service.Hold(b.Context(), env.HoldAct(b, env.Investigator, id, on, why), id, on, why); err != nil {
				b.Fatal(err)
			}
		}
	}
	return id
}

// BenchmarkChainLength times, on exhibits of 10 and 10,000 events, what every request
// pays for its chain: show, share (a change) and a download's authorization, with the
// folded states kept (the default) and without (every request reads and folds the
// whole chain, as before). Each share lengthens the chain by one event: the long
// chain's two runs share it (200 events more than 10,000 at most), the short chain's
// have one each. The 10,000-event chain takes a minute to build: set
// EVIDENCEGW_BENCH_LONG_CHAIN=1 to run it; its length can be set there instead of 1.
// The store is the in-memory one; EVIDENCEGW_BENCH_STORE=localfs puts the objects in
// the local filesystem store (a temporary directory, every object fsynced) instead.
//
//	EVIDENCEGW_BENCH_LONG_CHAIN=1 go test ./exhibit -run '^$' -bench BenchmarkChainLength -benchtime 200x
func BenchmarkChainLength(b *testing.B) {
	var opts exhibittest.Options
	switch v := os.Getenv("EVIDENCEGW_BENCH_STORE"); v {
	case "", "memory":
	case "localfs":
		opts.WrapStore = func(*memstore.Store) storage.Store {
			s, err := localfs.New(b.Context(), localfs.Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}
	default:
		b.Fatalf("EVIDENCEGW_BENCH_STORE=%s: want memory or localfs", v)
	}
	lengths := []int{10}
	if v := os.Getenv("EVIDENCEGW_BENCH_LONG_CHAIN"); v != "" {
		n := 10000
		if m, err := strconv.Atoi(v); err == nil && m > 1 {
			n = m
		}
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		env := exhibittest.New(b, opts)
		id := longChain(b, env, n)
		if n > 10 {
			c, w := env.Service.KeptFolds()
			b.Logf("%d events: %d folded states kept, estimated %d bytes", env.Show(b, env.Investigator, id).EventCount, c, w)
		}
		// The same chain through a replica that keeps no folded state: every request
		// reads, verifies (from the verified cache, warmed by a first read) and folds
		// the whole chain.
		whole := env.ReplicaWith(b, func(c *exhibit.Config) { c.FoldCacheBytes = -1 })
		for _, svc := range []struct {
			mode string
			s    *exhibit.Service
		}{{"kept", env.Service}, {"whole", whole}} {
			s := svc.s
			if svc.mode == "whole" && n < 1000 {
				// A chain of its own, not the one the kept run's shares lengthened.
				id = longChain(b, env, n)
			}
			if _, err := s.Show(b.Context(), env.Partner.Principal, id); err != nil {
				b.Fatal(err)
			}
			name := func(op string) string { return fmt.Sprintf("events=%d/%s/%s", n, op, svc.mode) }
			b.Run(name("show"), func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Show(b.Context(), env.Partner.Principal, id); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name("download-auth"), func(b *testing.B) {
				for b.Loop() {
					if err := s.AuthorizeDownload(b.Context(), env.Partner.Principal, id); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name("share"), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					req := env.ShareRequest(exhibittest.CourtNL)
					p := env.ShareAct(b, id, req)
					b.StartTimer()
					if _, err := s.Share(b.Context(), p, id, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
