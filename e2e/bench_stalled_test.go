package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/pki"
)

// The stalled connections of BenchmarkStalled, by kind: 1,000 in all.
const (
	// stallTCP connections never start their TLS handshake.
	stallTCP = 300
	// stallHeaders connections complete TLS, then never finish their request headers.
	stallHeaders = 300
	// stallUploads connections send an upload's headers (1 GiB declared) and 64 KiB
	// of its body, then nothing. They are spread over stallMembers extra members,
	// stallPerMember each: the default uploads_per_member.
	stallUploads   = 400
	stallPerMember = 4
	stallMembers   = stallUploads / stallPerMember
)

// The measuring client of BenchmarkStalled.
const (
	// stallPace is the interval between its requests: about 16 requests per second,
	// under its own member's default limit of 20.
	stallPace = 60 * time.Millisecond
	// stallBaseline and stallMeasure are how long it measures without and with the
	// stalled connections: long enough, with them, for the gateway to cut every kind
	// (the stalled uploads after the default body idle timeout of 60 s) and for the
	// client to open them all again.
	stallBaseline = 15 * time.Second
	stallMeasure  = 75 * time.Second
)

// BenchmarkStalled measures what 1,000 stalled connections cost everyone else. It
// starts the gateway with the default limits (so 16 of the stalled uploads are in
// flight and the others wait for a slot) and 100 extra members, measures a
// client's show/history/whoami latency (the baseline), then opens 1,000 stalled
// connections of three kinds (a connection the gateway cuts is opened again at once,
// as an attacker would) and measures the same client again. It reports both
// latencies (p50, p99), the stalled connections the client held and the gateway
// counted (peak), the connections of each kind the gateway cut, and the gateway's
// peak RSS; and it checks that the cut uploads left no temporary file.
//
//	go test ./e2e -run '^$' -bench Stalled -benchtime 1x
func BenchmarkStalled(b *testing.B) {
	raiseOpenFiles(b, 4096)
	ops := freePort(b)
	g := startGatewayWith(b, "", "ops_listen: "+ops+"\n"+stallAgencies())
	pid := g.cmd.Process.Pid
	file, _ := writeRandomFile(b, 64<<10)
	id := jsonField(b, g.must("investigator-nl", "upload", "--case", "CASE-STALL", "--json", file), "evidence_id")
	hc, base := g.httpClient("investigator-nl")
	targets := []string{base + "/v1/evidence/" + id, base + "/v1/evidence/" + id + "/events", base + "/v1/whoami"}

	for b.Loop() {
		baseline := measureLatency(b, hc, targets, stallBaseline)

		ctx, cancel := context.WithCancel(b.Context())
		st := &stallers{addr: strings.TrimPrefix(base, "https://")}
		st.start(ctx, b, g)
		deadline := time.Now().Add(60 * time.Second)
		for st.open.Load() < stallTCP+stallHeaders+stallUploads && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		openedAll := st.open.Load()
		peak := sampleGateway(ctx, ops)
		loaded := measureLatency(b, hc, targets, stallMeasure)
		held := peak.stop()
		cut := [3]int64{st.cut[0].Load(), st.cut[1].Load(), st.cut[2].Load()}
		timedOut, refused := st.uploads408.Load(), st.uploads503.Load()
		cancel()
		st.wg.Wait()
		tmp := filepath.Join(g.data, "store", "tmp")
		for deadline := time.Now().Add(10 * time.Second); len(dirNames(tmp)) > 0 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		if left := dirNames(tmp); len(left) > 0 {
			b.Errorf("%d temporary files left in %s after the stalled uploads ended", len(left), tmp)
		}

		b.ReportMetric(ms(percentile(baseline, 50)), "baseline-p50-ms")
		b.ReportMetric(ms(percentile(baseline, 99)), "baseline-p99-ms")
		b.ReportMetric(ms(percentile(loaded, 50)), "stalled-p50-ms")
		b.ReportMetric(ms(percentile(loaded, 99)), "stalled-p99-ms")
		b.ReportMetric(float64(openedAll), "stalled-open")
		b.ReportMetric(float64(held.connections), "gateway-conns-peak")
		b.ReportMetric(float64(held.uploads), "gateway-uploads-peak")
		b.ReportMetric(float64(held.waiting), "gateway-waiting-peak")
		b.ReportMetric(float64(cut[0]), "cut-tcp")
		b.ReportMetric(float64(cut[1]), "cut-headers")
		b.ReportMetric(float64(timedOut), "uploads-408")
		b.ReportMetric(float64(refused), "uploads-503")
		b.Logf("baseline: %d requests; with %d stalled connections open: %d requests, slowest %s; the gateway counted up to %d connections, %d uploads in flight and %d waiting for a slot; it cut %d TCP and %d header stalls, and ended %d upload stalls (%d with 408 request-timeout, %d with 503 after waiting for a slot); each was opened again at once",
			len(baseline), openedAll, len(loaded), slices.Max(loaded), held.connections, held.uploads, held.waiting, cut[0], cut[1], cut[2], timedOut, refused)
	}
	b.ReportMetric(float64(peakRSS(b, pid))/(1<<20), "gateway-peak-RSS-MiB")
}

// raiseOpenFiles raises the soft limit of open files to at least n: the stalled
// connections are file descriptors in this process and in the gateway, which
// inherits the limit.
func raiseOpenFiles(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Max < n {
		b.Fatalf("the open-files limit is %d at most; this benchmark needs %d", lim.Max, n)
	}
	if lim.Cur < n {
		lim.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("open-files limit: %d (hard %d)", lim.Cur, lim.Max)
}

// stallAgencies is the agencies section: the demo agencies and agency-bench, whose
// stallMembers investigators (bench-000, ...) get identities like the demo members.
func stallAgencies() string {
	var sb strings.Builder
	sb.WriteString(`agencies:
  - id: agency-nl
    jurisdiction: NL
    members: [{subject: "CN=investigator-nl,O=agency-nl,C=NL", person: investigator-nl, role: investigator}]
  - id: agency-us
    jurisdiction: US
    members: [{subject: "CN=partner-us,O=agency-us,C=US", person: partner-us, role: investigator}]
  - id: court-nl
    jurisdiction: NL
    members: [{subject: "CN=court-nl,O=court-nl,C=NL", person: court-nl, role: court}]
  - id: agency-bench
    jurisdiction: NL
    members:
`)
	for i := range stallMembers {
		fmt.Fprintf(&sb, "      - {subject: \"CN=bench-%03d,O=agency-bench,C=NL\", person: bench-%03d, role: investigator}\n", i, i)
	}
	return sb.String()
}

// measureLatency requests the targets in turn, one every stallPace, for d, and
// returns each request's latency. Every answer must be 200.
func measureLatency(b *testing.B, hc *http.Client, targets []string, d time.Duration) []time.Duration {
	var out []time.Duration
	tick := time.NewTicker(stallPace)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
		url := targets[len(out)%len(targets)]
		start := time.Now()
		resp, err := hc.Get(url)
		if err != nil {
			b.Fatalf("GET %s: %v", url, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: status %d, %v", url, resp.StatusCode, err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// stallers hold the stalled connections.
type stallers struct {
	addr string
	open atomic.Int64    // stalled connections open now
	cut  [3]atomic.Int64 // connections the gateway cut, by kind (TCP, headers, upload)
	// uploads408 and uploads503 count the stalled uploads the gateway answered
	// request-timeout and (no upload slot freed) unavailable.
	uploads408, uploads503 atomic.Int64
	wg                     sync.WaitGroup
}

// start opens every stalled connection, each in its own goroutine that opens it
// again when the gateway cuts it, until ctx is done.
func (s *stallers) start(ctx context.Context, b *testing.B, g *gateway) {
	demo := loadTLS(b, g, "partner-us")
	for i := range stallTCP + stallHeaders + stallUploads {
		var stall func(context.Context) (net.Conn, error)
		kind := 0
		switch {
		case i < stallTCP:
			stall = s.tcp
		case i < stallTCP+stallHeaders:
			stall, kind = func(ctx context.Context) (net.Conn, error) { return s.headers(ctx, demo) }, 1
		default:
			n := i - stallTCP - stallHeaders
			member := loadTLS(b, g, fmt.Sprintf("bench-%03d", n/stallPerMember))
			stall, kind = func(ctx context.Context) (net.Conn, error) { return s.upload(ctx, member) }, 2
		}
		s.wg.Add(1)
		go s.hold(ctx, kind, stall)
	}
}

// hold keeps one stalled connection open: it waits for the gateway to cut it (a read
// that ends), then opens it again.
func (s *stallers) hold(ctx context.Context, kind int, stall func(context.Context) (net.Conn, error)) {
	defer s.wg.Done()
	for ctx.Err() == nil {
		c, err := stall(ctx)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		s.open.Add(1)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		// Until the gateway answers and closes, or ctx closes it.
		status := make([]byte, len("HTTP/1.1 408"))
		n, _ := io.ReadFull(c, status)
		io.Copy(io.Discard, c)
		stop()
		c.Close()
		s.open.Add(-1)
		if ctx.Err() == nil {
			s.cut[kind].Add(1)
			switch string(status[:n]) {
			case "HTTP/1.1 408":
				s.uploads408.Add(1)
			case "HTTP/1.1 503":
				s.uploads503.Add(1)
			}
		}
	}
}

func (s *stallers) dialer() *net.Dialer { return &net.Dialer{Timeout: 10 * time.Second} }

// tcp connects and sends nothing.
func (s *stallers) tcp(ctx context.Context) (net.Conn, error) {
	return s.dialer().DialContext(ctx, "tcp", s.addr)
}

// headers completes TLS and sends the start of a request, never its end.
func (s *stallers) headers(ctx context.Context, cfg *tls.Config) (net.Conn, error) {
	c, err := (&tls.Dialer{NetDialer: s.dialer(), Config: cfg}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, "GET /v1/whoami HTTP/1.1\r\nHost: gateway\r\nUser-Agent: stalled"); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// stalledBody is the part of a stalled upload's body that is sent.
var stalledBody = make([]byte, 64<<10)

// upload sends an upload's headers, declaring 1 GiB, and the first 64 KiB of it.
func (s *stallers) upload(ctx context.Context, cfg *tls.Config) (net.Conn, error) {
	c, err := (&tls.Dialer{NetDialer: s.dialer(), Config: cfg}).DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("POST /v1/evidence?case_id=CASE-STALL HTTP/1.1\r\nHost: gateway\r\nContent-Length: %d\r\n%s: %s\r\n\r\n",
		1<<30, api.HeaderContentDigest, api.FormatDigest(make([]byte, 32)))
	w := bufio.NewWriter(c)
	w.WriteString(head)
	w.Write(stalledBody)
	if err := w.Flush(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dirNames lists the names in dir.
func dirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// loadTLS returns the HTTP/1.1 client configuration of a member's identity.
func loadTLS(b *testing.B, g *gateway, person string) *tls.Config {
	id, err := pki.LoadIdentity(filepath.Join(g.data, "identities", person))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := id.TLSConfig()
	if err != nil {
		b.Fatal(err)
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// gaugePeaks is the highest value seen of the gateway's connection and upload
// gauges.
type gaugePeaks struct {
	connections, uploads, waiting int
}

// gaugeSampler reads the gateway's gauges every 250 ms until stopped.
type gaugeSampler struct {
	mu     sync.Mutex
	peaks  gaugePeaks
	cancel context.CancelFunc
	done   chan struct{}
}

func sampleGateway(ctx context.Context, ops string) *gaugeSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &gaugeSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			g := readGauges(ctx, ops)
			s.mu.Lock()
			s.peaks.connections = max(s.peaks.connections, g.connections)
			s.peaks.uploads = max(s.peaks.uploads, g.uploads)
			s.peaks.waiting = max(s.peaks.waiting, g.waiting)
			s.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *gaugeSampler) stop() gaugePeaks {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peaks
}

// readGauges reads the gauges of open connections, uploads in flight and uploads
// waiting from the operations listener; -1 for each it cannot.
func readGauges(ctx context.Context, ops string) gaugePeaks {
	g := gaugePeaks{-1, -1, -1}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ops+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return g
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "evidencegw_http_connections":
			g.connections = int(n)
		case "evidencegw_http_uploads_in_flight":
			g.uploads = int(n)
		case "evidencegw_http_uploads_waiting":
			g.waiting = int(n)
		}
	}
	return g
}
