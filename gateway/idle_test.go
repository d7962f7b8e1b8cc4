package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit/exhibittest"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// idle is the body idle timeout of these tests.
const idle = 300 * time.Millisecond

// uploadHead is the head of an upload of content by the investigator, with its signed
// act and extra header lines.
func (ts *testServer) uploadHead(content []byte, extra string) string {
	act := ts.uploadAct(ts.t, content)
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: gateway\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s: %s\r\n%s: %s\r\n%s\r\n",
		uploadPath, api.ContentMediaType, len(content), api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(content)),
		api.HeaderCustodyAct, act, extra)
}

// localStore returns options that put the service on the local filesystem store in a
// temporary directory, and that directory.
func localStore(t testing.TB) (exhibittest.Options, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := localfs.New(t.Context(), localfs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return exhibittest.Options{WrapStore: func(*memstore.Store) storage.Store { return st }}, dir
}

// files lists the regular files under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// waitFiles waits until dir holds n regular files, and fails if it does not within d.
func waitFiles(t *testing.T, dir string, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := files(t, dir)
		if len(got) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %v, want %d files", dir, got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIdleUploadIsCut: an upload whose body stops moving is answered 408
// request-timeout after the idle timeout, its connection is closed, and the local
// store keeps nothing of it: no object, no file under store/tmp.
func TestIdleUploadIsCut(t *testing.T) {
	t.Parallel()
	envOpts, dir := localStore(t)
	ts := newTestServer(t, serverOptions{env: envOpts, bodyIdle: idle})
	srv := ts.startTLS(t, false)
	before := files(t, filepath.Join(dir, "objects"))
	c := srv.dial(t, ts.env.Investigator, nil)
	content := bytes.Repeat([]byte("x"), 1<<20)
	start := time.Now()
	if _, err := io.WriteString(c, ts.uploadHead(content, "")+string(content[:1000])); err != nil {
		t.Fatal(err)
	}
	// While it stalls, the upload holds a temporary file: the one that must go.
	waitFiles(t, filepath.Join(dir, "tmp"), 1, idle*3/4)
	br := bufio.NewReader(c)
	resp, body := readResponse(t, c, br, 10*idle)
	elapsed := time.Since(start)
	p := checkProblemResponse(t, "stalled upload", resp, body, http.StatusRequestTimeout, api.ProblemRequestTimeout)
	if !strings.Contains(p.Detail, "nothing of it was stored") {
		t.Errorf("got detail %q, want it to say nothing was stored", p.Detail)
	}
	if elapsed < idle*9/10 {
		t.Errorf("cut after %s, before the idle timeout of %s", elapsed, idle)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("the connection stays open after the cut")
	}
	waitFiles(t, filepath.Join(dir, "tmp"), 0, time.Second)
	if after := files(t, filepath.Join(dir, "objects")); len(after) != len(before) {
		t.Errorf("the cut upload left objects: before %v, after %v", before, after)
	}
	ts.waitMetric(t, `evidencegw_http_idle_cut_total{direction="request"}`, "1", time.Second)
}

// TestIdleUploadIsCutHTTP2: the same over HTTP/2, where the deadline is the stream's.
func TestIdleUploadIsCutHTTP2(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{bodyIdle: idle})
	srv := ts.startTLS(t, true)
	content := bytes.Repeat([]byte("x"), 1<<20)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go pw.Write(content[:1000])
	ctx, cancel := context.WithTimeout(t.Context(), 20*idle)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+uploadPath, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(content))
	req.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(content)))
	req.Header.Set(api.HeaderCustodyAct, ts.uploadAct(t, content))
	resp, err := srv.client(ts.env.Investigator).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("got %s, want HTTP/2", resp.Proto)
	}
	body, _ := io.ReadAll(resp.Body)
	checkProblemResponse(t, "stalled HTTP/2 upload", resp, body, http.StatusRequestTimeout, api.ProblemRequestTimeout)
}

// TestSlowUploadIsNotCut: a body that moves a little at a time, for much longer than
// the idle timeout, is received; so is one whose registration takes longer than the
// idle timeout after its last byte: the read deadline must not outlive the body
// (net/http removes it when the body ends; this holds it to that).
func TestSlowUploadIsNotCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pieces int
		pause  time.Duration // between pieces
		after  time.Duration // added to the store's second Create (the data key), after the body
	}{
		{"slow but moving", 20, idle / 3, 0},
		{"long work after the body", 1, 0, 3 * idle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, serverOptions{bodyIdle: idle})
			var creates atomic.Int32
			ts.env.FailCreate(func(string) error {
				// The store checks the request's context after this: a deadline
				// left on the connection after the body would have cancelled it.
				if creates.Add(1) == 2 {
					time.Sleep(tt.after)
				}
				return nil
			})
			srv := ts.startTLS(t, false)
			c := srv.dial(t, ts.env.Investigator, nil)
			content := make([]byte, 500*tt.pieces)
			rand.Read(content)
			if _, err := io.WriteString(c, ts.uploadHead(content, "")); err != nil {
				t.Fatal(err)
			}
			for i := range tt.pieces {
				time.Sleep(tt.pause)
				if _, err := c.Write(content[i*500 : (i+1)*500]); err != nil {
					t.Fatalf("piece %d: %v", i, err)
				}
			}
			resp, body := readResponse(t, c, bufio.NewReader(c), 10*time.Second)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("got %d %s, want 201", resp.StatusCode, body)
			}
		})
	}
}

// smallReceiveBuffer dials with a receive buffer of a few KiB, so that a client that
// stops reading soon blocks the gateway's writes.
var smallReceiveBuffer = &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	return errors.Join(err, serr)
}}

// TestStalledDownloadIsCut: a client that stops reading a download does not hold the
// handler: its writes are cut after the idle timeout and the stream is aborted.
func TestStalledDownloadIsCut(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{bodyIdle: idle})
	content := make([]byte, 8<<20)
	rand.Read(content)
	id := ts.env.Register(t, ts.env.Investigator, content).Evidence.EvidenceID
	srv := ts.startTLS(t, false)
	c := srv.dial(t, ts.env.Investigator, smallReceiveBuffer)
	if _, err := fmt.Fprintf(c, "GET /v1/evidence/%s/content HTTP/1.1\r\nHost: gateway\r\n\r\n", id); err != nil {
		t.Fatal(err)
	}
	status := make([]byte, len("HTTP/1.1 200"))
	if _, err := io.ReadFull(c, status); err != nil || string(status) != "HTTP/1.1 200" {
		t.Fatalf("got %q (%v), want a 200 status line", status, err)
	}
	// The client reads nothing more.
	ts.waitMetric(t, `evidencegw_http_idle_cut_total{direction="response"}`, "1", 20*idle)
	// The cut counts when the write fails; the handler logs it when it returns, after.
	if logs := ts.waitLog(t, "no byte of the body moved", 20*idle); !strings.Contains(logs, "no byte of the body moved") {
		t.Errorf("the cut is not logged with its reason:\n%s", logs)
	}
	// The transfer is abandoned, saying why.
	if last := waitForAction(t, ts, id, "download-abandon"); !strings.Contains(last.Detail, "read nothing for the idle timeout") {
		t.Errorf("the stalled transfer is abandoned with %q, want the idle timeout as the reason", last.Detail)
	}
}

// TestKeepAliveAfterDownload: the write deadline of a download does not outlive it: a
// later request on the same connection, after more than the idle timeout, is answered
// (net/http removes the deadline once the response is complete; this holds it to
// that).
func TestKeepAliveAfterDownload(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{bodyIdle: idle})
	content := make([]byte, 256<<10)
	rand.Read(content)
	id := ts.env.Register(t, ts.env.Investigator, content).Evidence.EvidenceID
	srv := ts.startTLS(t, false)
	c := srv.dial(t, ts.env.Investigator, nil)
	br := bufio.NewReader(c)
	if _, err := fmt.Fprintf(c, "GET /v1/evidence/%s/content HTTP/1.1\r\nHost: gateway\r\n\r\n", id); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, c, br, 10*time.Second); resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("download: got %d and %d bytes, want 200 and the %d bytes", resp.StatusCode, len(body), len(content))
	}
	time.Sleep(3 * idle)
	if _, err := io.WriteString(c, "GET /v1/whoami HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the request after the download on the same connection: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the request after the download: got %d, want 200", resp.StatusCode)
	}
}

// TestTooLargeBeforeContinue: an upload that declares more than the limit is refused
// 413 from its head: the client that asked for 100 Continue never gets it and sends
// nothing. One within the limit gets its 100 Continue, then 201.
func TestTooLargeBeforeContinue(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, serverOptions{maxUploadBytes: maxUpload})
	srv := ts.startTLS(t, false)

	c := srv.dial(t, ts.env.Investigator, nil)
	big := make([]byte, maxUpload+1)
	if _, err := io.WriteString(c, ts.uploadHead(big, "Expect: 100-continue\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, body := readResponse(t, c, bufio.NewReader(c), 10*time.Second)
	if resp.StatusCode == http.StatusContinue {
		t.Fatal("got 100 Continue for a body over the limit, want 413 before it")
	}
	p := checkProblemResponse(t, "upload declaring too much", resp, body, http.StatusRequestEntityTooLarge, api.ProblemTooLarge)
	if !strings.Contains(p.Detail, fmt.Sprint(maxUpload)) {
		t.Errorf("got detail %q, want it to name the limit %d", p.Detail, maxUpload)
	}

	c = srv.dial(t, ts.env.Investigator, nil)
	br := bufio.NewReader(c)
	small := []byte("within the limit")
	if _, err := io.WriteString(c, ts.uploadHead(small, "Expect: 100-continue\r\n")); err != nil {
		t.Fatal(err)
	}
	if resp, _ := readResponse(t, c, br, 10*time.Second); resp.StatusCode != http.StatusContinue {
		t.Fatalf("within the limit: got %d, want 100 Continue first", resp.StatusCode)
	}
	if _, err := c.Write(small); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResponse(t, c, br, 10*time.Second); resp.StatusCode != http.StatusCreated {
		t.Fatalf("within the limit: got %d %s, want 201", resp.StatusCode, body)
	}
}

// neverRead is a request body that must not be read.
type neverRead struct{ t *testing.T }

func (r neverRead) Read([]byte) (int, error) {
	r.t.Error("the body was read")
	return 0, io.ErrUnexpectedEOF
}

// TestDeclaredTooLargeIsNotRead: the JSON endpoints, like uploads, refuse a
// Content-Length over their limit without reading the body.
func TestDeclaredTooLargeIsNotRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, serverOptions{})
	for _, tt := range []struct{ path string }{{uploadPath}, {"/v1/evidence/" + f.id + "/grants"}} {
		r := request(t, &f.env.Investigator, http.MethodPost, tt.path, neverRead{t})
		r.ContentLength = 1 << 30
		r.Header.Set(api.HeaderContentDigest, api.FormatDigest(exhibittest.Digest(f.content)))
		checkProblem(t, "POST "+tt.path, f.serve(r), http.StatusRequestEntityTooLarge, api.ProblemTooLarge)
	}
}
