// Package witness obtains witness cosignatures for the checkpoints of a log that is not
// Tessera, over the C2SP tlog-witness protocol (https://c2sp.org/tlog-witness): the
// log sends each witness of its policy the signed checkpoint with a consistency proof
// from the size that witness cosigned last, and the checkpoint counts once the
// returned cosignatures satisfy the policy.
//
// The policy is the Sigsum-style file the embedded Tessera log reads, parsed by
// Tessera's own tessera.NewWitnessGroupFromPolicy, whose WitnessGroup decides which
// witnesses to ask and when the quorum is met: both logs read one file the same way.
// Tessera's client of the protocol is internal to Tessera, and neither torchwood nor
// transparency-dev/witness publish one for this protocol version, so the requests are
// made here (Client.Cosign).
//
// It may import ledger, Tessera's policy types and the standard library's HTTP client;
// it must not import the application layer or the stores.
package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
)

const (
	// DefaultTimeout bounds one Cosign: how long an append may wait for the quorum.
	DefaultTimeout = 5 * time.Second
	// maxResponse caps a witness's answer (a few cosignature lines).
	maxResponse = 16 << 10
	// maxConflicts bounds the 409 round trips with one witness in one Cosign (each
	// tells the size it cosigned last; more means it keeps moving).
	maxConflicts = 3
)

// ProofFunc returns the RFC 6962 consistency proof from tree size from to size to.
type ProofFunc func(ctx context.Context, from, to uint64) ([][]byte, error)

// Config configures a Client.
type Config struct {
	// Policy is the witness policy (tessera.NewWitnessGroupFromPolicy): whom to ask,
	// and when the cosignatures suffice.
	Policy tessera.WitnessGroup
	// HTTPClient makes the requests; http.DefaultClient if nil.
	HTTPClient *http.Client
	// Timeout bounds one Cosign; DefaultTimeout if zero.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Client asks the witnesses of a policy to cosign checkpoints. It remembers, per
// witness, the tree size it cosigned last. It is safe for concurrent use; the requests
// to one witness are made one at a time, in the order of the Cosign calls.
type Client struct {
	cfg       Config
	witnesses []*remote
}

// remote is the log's view of one witness.
type remote struct {
	url      string
	verifier note.Verifier

	// mu is held for a whole exchange with the witness: a request still running
	// when Cosign returned (the quorum was met without it) delays the next one.
	mu sync.Mutex
	// size is the tree size the witness cosigned last, as far as the log knows; 0 at
	// first (the protocol's way to learn it: a 409 answers the size).
	size uint64
}

// New returns a Client for the witnesses of cfg.Policy.
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg}
	for url, v := range cfg.Policy.Endpoints() {
		c.witnesses = append(c.witnesses, &remote{url: url, verifier: v})
	}
	return c
}

// Witnesses returns how many witnesses the client asks.
func (c *Client) Witnesses() int { return len(c.witnesses) }

// Satisfied reports whether a signed checkpoint carries cosignatures that meet the
// policy.
func (c *Client) Satisfied(signed []byte) bool { return c.cfg.Policy.Satisfied(signed) }

// Cosign sends signed, the log's signed checkpoint of tree size size, to every witness
// and returns it with their cosignature lines appended as soon as the policy is met.
// If it cannot be met within the timeout it returns a *ledger.WitnessQuorumError
// (matching ledger.ErrWitnessQuorum) saying what each witness answered. proof gives
// the consistency proofs the witnesses need.
func (c *Client) Cosign(ctx context.Context, signed []byte, size uint64, proof ProofFunc) ([]byte, error) {
	if len(c.witnesses) == 0 || c.cfg.Policy.Satisfied(signed) {
		return signed, nil
	}
	// The requests outlive a Cosign that returns early, so that every witness
	// follows the log; the timeout bounds them.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	type answer struct {
		sig     []byte
		refusal *ledger.WitnessRefusal
	}
	answers := make(chan answer, len(c.witnesses))
	// The witnesses usually stand at the same size: one proof serves them all.
	proof = sharedProofs(proof)
	var running sync.WaitGroup
	for _, w := range c.witnesses {
		running.Go(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			sig, ref := c.update(rctx, w, signed, size, proof)
			answers <- answer{sig, ref}
		})
	}
	go func() { running.Wait(); cancel() }()
	out := bytes.Clone(signed)
	qerr := &ledger.WitnessQuorumError{Size: size}
	for range c.witnesses {
		var a answer
		select {
		case a = <-answers:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for witness cosignatures: %w", context.Cause(ctx))
		}
		if a.refusal != nil {
			qerr.Refusals = append(qerr.Refusals, *a.refusal)
			continue
		}
		out = append(out, a.sig...)
		if c.cfg.Policy.Satisfied(out) {
			return out, nil
		}
	}
	c.cfg.Logger.WarnContext(ctx, "witness quorum not met", "size", size, "err", qerr)
	return nil, qerr
}

// update runs the add-checkpoint exchange with one witness: the cosignature line it
// returned, or why it did not.
func (c *Client) update(ctx context.Context, w *remote, signed []byte, size uint64, proof ProofFunc) ([]byte, *ledger.WitnessRefusal) {
	refuse := func(status int, format string, args ...any) *ledger.WitnessRefusal {
		return &ledger.WitnessRefusal{Witness: w.verifier.Name(), URL: w.url, Status: status, Detail: fmt.Sprintf(format, args...)}
	}
	for range maxConflicts {
		old := w.size
		if old > size {
			return nil, refuse(0, "it cosigned a tree of size %d, larger than this checkpoint's %d (a rollback)", old, size)
		}
		var hashes [][]byte
		if old > 0 && old < size {
			var err error
			if hashes, err = proof(ctx, old, size); err != nil {
				return nil, refuse(0, "no consistency proof from %d to %d: %v", old, size, err)
			}
		}
		status, body, ctype, err := c.post(ctx, w.url, requestBody(old, hashes, signed))
		if err != nil {
			return nil, refuse(0, "%v", err)
		}
		switch {
		case status == http.StatusOK:
			sig, err := cosignature(signed, body, w.verifier)
			if err != nil {
				return nil, refuse(status, "%v", err)
			}
			w.size = size
			return sig, nil
		case status == http.StatusConflict && ctype == "text/x.tlog.size":
			known, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64)
			if err != nil {
				return nil, refuse(status, "unparsable size in a 409 answer")
			}
			if known == old {
				return nil, refuse(status, "conflict on the size it announced itself (%d)", known)
			}
			w.size = known // and try again from the size it cosigned
		default:
			return nil, refuse(status, "%s", describe(status))
		}
	}
	return nil, refuse(http.StatusConflict, "its cosigned size kept changing")
}

// sharedProofs returns proof with each (from, to) asked for once, for one Cosign.
func sharedProofs(proof ProofFunc) ProofFunc {
	type key struct{ from, to uint64 }
	var mu sync.Mutex
	memo := map[key]func() ([][]byte, error){}
	return func(ctx context.Context, from, to uint64) ([][]byte, error) {
		mu.Lock()
		f, ok := memo[key{from, to}]
		if !ok {
			f = sync.OnceValues(func() ([][]byte, error) { return proof(ctx, from, to) })
			memo[key{from, to}] = f
		}
		mu.Unlock()
		return f()
	}
}

// requestBody is the add-checkpoint request: "old N", the proof lines, an empty line,
// the signed checkpoint.
func requestBody(old uint64, proof [][]byte, signed []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(signed)
	return b.Bytes()
}

func (c *Client) post(ctx context.Context, url string, body []byte) (status int, resp []byte, ctype string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, "", fmt.Errorf("building the request: %w", err)
	}
	r, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("no answer: %w", err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, maxResponse+1))
	if err != nil {
		return r.StatusCode, nil, "", fmt.Errorf("reading the answer: %w", err)
	}
	if len(b) > maxResponse {
		return r.StatusCode, nil, "", errors.New("answer too large")
	}
	return r.StatusCode, b, r.Header.Get("Content-Type"), nil
}

// cosignature checks that body is one valid cosignature line of the witness over the
// checkpoint, and returns it.
func cosignature(signed, body []byte, v note.Verifier) ([]byte, error) {
	n, err := note.Open(append(bytes.Clone(signed), body...), note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("its answer is not a valid cosignature: %v", err)
	}
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return fmt.Appendf(nil, "— %s %s\n", s.Name, s.Base64), nil
		}
	}
	return nil, errors.New("its answer holds no cosignature of its key")
}

// describe says what a status of the protocol means.
func describe(status int) string {
	switch status {
	case http.StatusConflict:
		return "the checkpoint is inconsistent with the one it cosigned before (a fork or a rollback)"
	case http.StatusUnprocessableEntity:
		return "the consistency proof does not verify: the checkpoint forks from the one it cosigned before"
	case http.StatusForbidden:
		return "it does not know the log or its key: register the log with the witness"
	case http.StatusNotFound:
		return "it does not know the log's origin"
	case http.StatusBadRequest:
		return "it found the request malformed"
	}
	return "unexpected answer " + http.StatusText(status)
}
