package witness_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/witness"
)

// fakeWitness is an in-memory tlog-witness with fault hooks, for fast tests of the
// client's side of the protocol; the real litewitness runs in the log adapters' tests.
type fakeWitness struct {
	signer note.Signer
	vkey   string
	srv    *httptest.Server

	mu       sync.Mutex
	size     uint64 // the size it cosigned last
	status   int    // if set, answer this status instead
	garbage  bool   // answer a cosignature that does not verify
	requests []string
}

func newFakeWitness(t *testing.T, name string) *fakeWitness {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	cosigKey, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWitness{signer: s, vkey: cosigKey}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *fakeWitness) serve(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	head, cp, _ := strings.Cut(string(body), "\n\n")
	old, _ := strconv.ParseUint(strings.TrimPrefix(strings.SplitN(head, "\n", 2)[0], "old "), 10, 64)
	w.requests = append(w.requests, fmt.Sprintf("old %d", old))
	if w.status != 0 {
		rw.WriteHeader(w.status)
		return
	}
	if old != w.size {
		rw.Header().Set("Content-Type", "text/x.tlog.size")
		rw.WriteHeader(http.StatusConflict)
		fmt.Fprintf(rw, "%d\n", w.size)
		return
	}
	text, _, _ := strings.Cut(cp, "\n\n")
	var c log.Checkpoint
	if _, err := c.Unmarshal([]byte(text + "\n")); err != nil {
		rw.WriteHeader(http.StatusBadRequest)
		return
	}
	signed, err := note.Sign(&note.Note{Text: text + "\n"}, w.signer)
	if err != nil {
		rw.WriteHeader(http.StatusInternalServerError)
		return
	}
	_, sigs, _ := strings.Cut(string(signed), "\n\n")
	if w.garbage {
		sigs = strings.Replace(sigs, sigs[len(sigs)-6:len(sigs)-2], "AAAA", 1)
	}
	w.size = c.Size
	io.WriteString(rw, sigs)
}

type logKey struct {
	signer note.Signer
	origin string
}

func newLogKey(t *testing.T) logKey {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, "example.test/log")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return logKey{s, "example.test/log"}
}

func (k logKey) checkpoint(t *testing.T, size uint64) []byte {
	t.Helper()
	body := log.Checkpoint{Origin: k.origin, Size: size, Hash: make([]byte, 32)}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(body)}, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func client(t *testing.T, k int, ws ...*fakeWitness) *witness.Client {
	t.Helper()
	var b strings.Builder
	var names []string
	for i, w := range ws {
		fmt.Fprintf(&b, "witness w%d %s %s\n", i, w.vkey, w.srv.URL)
		names = append(names, fmt.Sprintf("w%d", i))
	}
	fmt.Fprintf(&b, "group g %d %s\nquorum g\n", k, strings.Join(names, " "))
	g, err := tessera.NewWitnessGroupFromPolicy([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return witness.New(witness.Config{Policy: g, Timeout: 5 * time.Second})
}

// proofs records the consistency proofs asked for; the fake witness does not check
// them (litewitness does, in the log adapters' tests).
type proofs struct {
	mu    sync.Mutex
	asked []string
}

func (p *proofs) proof(_ context.Context, from, to uint64) ([][]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, fmt.Sprintf("%d-%d", from, to))
	return [][]byte{make([]byte, 32)}, nil
}

func cosigners(t *testing.T, signed []byte, ws ...*fakeWitness) int {
	t.Helper()
	n := 0
	for _, w := range ws {
		v, err := fnote.NewVerifierForCosignatureV1(w.vkey)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := note.Open(signed, note.VerifierList(v)); err == nil {
			n++
		}
	}
	return n
}

// TestCosign: the client learns each witness's size from its 409, sends the proof from
// it, and returns once the quorum cosigned; a witness whose cosignature does not verify,
// or that refuses, counts for nothing and is named in the error.
func TestCosign(t *testing.T) {
	k := newLogKey(t)
	w1, w2, w3 := newFakeWitness(t, "example.test/w1"), newFakeWitness(t, "example.test/w2"), newFakeWitness(t, "example.test/w3")
	w2.size = 3 // it cosigned size 3 before this process started
	c := client(t, 2, w1, w2, w3)
	p := &proofs{}
	w3.status = http.StatusServiceUnavailable
	out, err := c.Cosign(t.Context(), k.checkpoint(t, 5), 5, p.proof)
	if err != nil {
		t.Fatalf("two of three up: %v", err)
	}
	if n := cosigners(t, out, w1, w2, w3); n != 2 {
		t.Errorf("%d cosignatures, want 2:\n%s", n, out)
	}
	if got := strings.Join(w2.requests, ","); got != "old 0,old 3" {
		t.Errorf("requests to the witness at size 3: %s, want old 0 then old 3", got)
	}
	if got := strings.Join(p.asked, ","); got != "3-5" {
		t.Errorf("proofs asked: %s, want 3-5", got)
	}

	// Two refusals: a 422 (a fork) and a cosignature that does not verify.
	w2.mu.Lock()
	w2.status = http.StatusUnprocessableEntity
	w2.mu.Unlock()
	w1.mu.Lock()
	w1.garbage = true
	w1.mu.Unlock()
	_, err = c.Cosign(t.Context(), k.checkpoint(t, 7), 7, p.proof)
	var qerr *ledger.WitnessQuorumError
	if !errors.As(err, &qerr) || !errors.Is(err, ledger.ErrWitnessQuorum) || !qerr.Refused() || qerr.Size != 7 {
		t.Fatalf("got %v, want a refused quorum for size 7", err)
	}
	for _, want := range []string{"example.test/w1", "not a valid cosignature", "example.test/w2 answered 422", "example.test/w3 answered 503"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}

// TestCosignRollback: a checkpoint smaller than what a witness cosigned is refused
// without a proof being asked for.
func TestCosignRollback(t *testing.T) {
	k := newLogKey(t)
	w1 := newFakeWitness(t, "example.test/w1")
	w1.size = 9
	c := client(t, 1, w1)
	p := &proofs{}
	_, err := c.Cosign(t.Context(), k.checkpoint(t, 4), 4, p.proof)
	if !errors.Is(err, ledger.ErrWitnessQuorum) || !strings.Contains(err.Error(), "larger than this checkpoint's 4 (a rollback)") {
		t.Fatalf("got %v, want a rollback refusal", err)
	}
	if len(p.asked) != 0 {
		t.Errorf("proofs asked for a rollback: %v", p.asked)
	}
}
