// Package trillianlog is the transparency log of the gateway on a Trillian log server
// (github.com/google/trillian, gRPC): Trillian sequences and stores the RFC 6962 tree,
// the gateway signs its own C2SP checkpoints over Trillian's roots, which are unsigned as
// far as the gateway is concerned.
//
// # Appending
//
// Append queues the leaf with QueueLeaf, then waits for a follower goroutine shared by
// all appends of the Log: while appends wait, it polls Trillian for its latest root,
// reads the newly integrated leaves once (GetLeavesByRange) to give each waiting append
// its index, signs one checkpoint for the new root and releases every append that root
// covers together. Trillian deduplicates leaves by their hash, so a retried Append
// returns the index of the first copy instead of adding the leaf again.
//
// # Checkpoint signing rules
//
//   - The gateway never signs two different roots for one tree size. Every signed
//     checkpoint is stored write-once in the CheckpointStore, by tree size, before it is
//     used; a checkpoint already stored for that size (another replica signed it) is used
//     instead, and if it commits to another root that is a ConflictingCheckpointError.
//
//   - Before signing a larger root, the gateway verifies Trillian's consistency proof from
//     the last checkpoint it signed (loaded from the store's highest checkpoint at start).
//     A proof that fails is an InconsistentRootError, and nothing is signed.
//
//   - While appends wait, the gateway reads every new leaf and checks that the leaves
//     hash to Trillian's root before signing it (an error matching ErrSecurity if not).
//     The same leaves answer the appends' inclusion proofs without a call to Trillian.
//
//   - With Config.Witnesses, a signed checkpoint is sent to the witnesses of the policy
//     (ledger/witness) and stored only once their cosignatures meet its quorum; until
//     then nothing is published and the waiting appends fail with an error matching
//     ledger.ErrWitnessQuorum (a witness that refuses a fork or a rollback says so).
//
// The errors of the first two rules match ErrSecurity with errors.Is and carry what is
// needed to show the inconsistency offline. No checkpoint is signed while Trillian serves
// an inconsistent root, and every waiting append fails with the error.
//
// It may import ledger, Trillian's gRPC API and the transparency-dev formats; it must
// not import the application layer, the object store or anything HTTP.
package trillianlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/google/trillian"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/witness"
)

// Timeouts and tuning. A custody request waits until its event is covered by a signed
// checkpoint, so pollInterval plus the Trillian signer's --sequencer_interval bound the
// latency of every state-changing request.
const (
	// rpcTimeout bounds one gRPC call to the Trillian log server.
	rpcTimeout = 10 * time.Second
	// storeTimeout bounds one read or write of a checkpoint in the store.
	storeTimeout = 10 * time.Second
	// startTimeout bounds New: loading the last signed checkpoint and the first root.
	startTimeout = 30 * time.Second
	// pollInterval is how often the follower asks Trillian for a new root while
	// appends wait.
	pollInterval = 20 * time.Millisecond
	// retryInterval is the first pause before retrying QueueLeaf after a transient
	// error; maxRetryInterval the longest, reached while Trillian stays unavailable.
	retryInterval    = 250 * time.Millisecond
	maxRetryInterval = 4 * time.Second
	// recheckInterval is how long a waiting append relies on the follower alone before
	// asking Trillian for its leaf by hash (a safety net; the follower's scan of new
	// leaves normally finds it first).
	recheckInterval = 5 * time.Second
	// maxUnknownRetries bounds the retries of QueueLeaf after an Unknown error.
	maxUnknownRetries = 5
	// leavesPerRequest caps one GetLeavesByRange call, keeping responses well under
	// gRPC's default 4 MiB message limit.
	leavesPerRequest = 256
	// keptBatches is how many recent batches of leaves are kept to answer inclusion
	// proofs of just-appended leaves without asking Trillian.
	keptBatches = 16
	// maxKeptBatchLeaves bounds the memory of a kept batch: larger ones (a backlog
	// after an outage) are not kept, their proofs come from Trillian.
	maxKeptBatchLeaves = 4096
	// maxCheckpointSize caps a checkpoint read back from the store.
	maxCheckpointSize = 16 << 10
)

// Config configures a Trillian-backed log.
type Config struct {
	// Address is the gRPC address (host:port) of the Trillian log server.
	Address string
	// TreeID is the Trillian tree of type LOG that holds the log.
	TreeID int64
	// Signer signs checkpoints; its Name() is the log origin.
	Signer note.Signer
	// Verifier is Signer's public half. It checks the checkpoints read back from Store
	// (this gateway's from an earlier run, or another replica's).
	Verifier note.Verifier
	// Checkpoints keeps every signed checkpoint write-once by tree size. Replicas of
	// the gateway that share a tree must share it.
	Checkpoints ledger.CheckpointStore
	// Credentials secure the gRPC connection. Nil means plaintext, acceptable only on
	// loopback or a private network restricted to the gateway and Trillian.
	Credentials credentials.TransportCredentials
	// Witnesses, if set, must cosign every checkpoint before it is stored or
	// answers an append (C2SP tlog-witness). While they do not meet their policy's
	// quorum no checkpoint is published and waiting appends fail with
	// ledger.ErrWitnessQuorum. Nil: checkpoints are published with the log's
	// signature alone.
	Witnesses *witness.Client
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// Log is a transparency log on a Trillian tree. It is safe for concurrent use.
type Log struct {
	cfg    Config
	origin string
	conn   *grpc.ClientConn
	client trillian.TrillianLogClient

	// refreshing is a one-slot semaphore: one root refresh at a time.
	refreshing chan struct{}
	// kick wakes the follower when an append starts waiting.
	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error

	mu sync.Mutex
	// signed is the latest checkpoint signed or adopted from the store; nil before the
	// first one.
	signed *checkpoint
	// scanned is the number of leaves already matched against waiting appends.
	scanned uint64
	// pending holds appends that have no index yet, by Merkle leaf hash.
	pending map[string][]*waiter
	// located holds appends that have an index and wait for a checkpoint covering it.
	located map[*waiter]struct{}
	// batches are the last batches scanned and signed, to serve inclusion proofs.
	batches []*batch

	// known is the compact range of the first scanned leaves, nil if not known (the
	// follower skipped leaves while no append waited). Only refresh uses it.
	known *peaks
	// alarmed is set while refreshes find a security error, to log it once. Only
	// refresh uses it.
	alarmed bool
}

var _ ledger.Log = (*Log)(nil)

// waiter is one Append waiting for its index and checkpoint.
type waiter struct {
	hash  []byte
	index uint64
	done  chan result // buffered: the sender never blocks
}

type result struct {
	index      uint64
	checkpoint ledger.Checkpoint
	err        error
}

// New connects to the Trillian log server, loads the last checkpoint signed for the log
// from cfg.Store and reads the tree's current root. The connection and a follower
// goroutine live until Close.
func New(ctx context.Context, cfg Config) (*Log, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	creds := cfg.Credentials
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(cfg.Address, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, fmt.Errorf("connecting to trillian at %s: %w", cfg.Address, err)
	}
	l := &Log{
		cfg:        cfg,
		origin:     cfg.Signer.Name(),
		conn:       conn,
		client:     trillian.NewTrillianLogClient(conn),
		refreshing: make(chan struct{}, 1),
		kick:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		pending:    make(map[string][]*waiter),
		located:    make(map[*waiter]struct{}),
	}
	if err := l.start(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	// The follower lives as long as the Log, not the caller's ctx.
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	go l.follow(fctx)
	return l, nil
}

func validate(cfg Config) error {
	switch {
	case cfg.Address == "":
		return errors.New("trillianlog: the trillian address is required")
	case cfg.TreeID <= 0:
		return fmt.Errorf("trillianlog: tree id %d: want a positive Trillian tree id", cfg.TreeID)
	case cfg.Signer == nil || cfg.Verifier == nil:
		return errors.New("trillianlog: a checkpoint signer and its verifier are required")
	case cfg.Checkpoints == nil:
		return errors.New("trillianlog: a checkpoint store is required")
	case cfg.Signer.Name() != cfg.Verifier.Name() || cfg.Signer.KeyHash() != cfg.Verifier.KeyHash():
		return fmt.Errorf("trillianlog: verifier %s+%08x is not the signer's key %s+%08x",
			cfg.Verifier.Name(), cfg.Verifier.KeyHash(), cfg.Signer.Name(), cfg.Signer.KeyHash())
	}
	return nil
}

// start loads the last signed checkpoint and the current root. No append waits yet, so
// every leaf queued from now on lands at or after the current size: the follower's
// scan starts there.
func (l *Log) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	last, err := l.loadLatest(ctx)
	if err != nil {
		return err
	}
	r, err := l.latestRoot(ctx)
	if err != nil {
		return err
	}
	l.signed, l.scanned = last, r.size
	attrs := []any{"tree_id", l.cfg.TreeID, "origin", l.origin, "trillian_size", r.size}
	if last != nil {
		attrs = append(attrs, "signed_size", last.size)
	}
	l.cfg.Logger.InfoContext(ctx, "trillian log opened", attrs...)
	return nil
}

// Append implements ledger.Log. A retry after an error does not add the leaf again:
// Trillian keeps one copy of identical leaves and Append returns its index.
func (l *Log) Append(ctx context.Context, leaf []byte) (uint64, ledger.Checkpoint, error) {
	w := l.register(rfc6962.DefaultHasher.HashLeaf(leaf))
	defer l.forget(w)
	dup, err := l.queue(ctx, leaf)
	if err != nil {
		return 0, ledger.Checkpoint{}, fmt.Errorf("queueing leaf in trillian tree %d: %w", l.cfg.TreeID, err)
	}
	if dup {
		// Queued earlier, perhaps integrated before this append started waiting.
		if err := l.locate(ctx, w); err != nil {
			return 0, ledger.Checkpoint{}, err
		}
	}
	l.wake()
	recheck := time.NewTimer(recheckInterval)
	defer recheck.Stop()
	for {
		select {
		case r := <-w.done:
			return r.index, r.checkpoint, r.err
		case <-recheck.C:
			if err := l.locate(ctx, w); err != nil {
				l.cfg.Logger.WarnContext(ctx, "looking up a waiting leaf by hash", "tree_id", l.cfg.TreeID, "err", err)
			}
			recheck.Reset(recheckInterval)
		case <-ctx.Done():
			return 0, ledger.Checkpoint{}, fmt.Errorf("waiting for leaf %x to be integrated into trillian tree %d: %w",
				w.hash, l.cfg.TreeID, context.Cause(ctx))
		}
	}
}

// queue submits leaf, retrying transient failures with backoff until ctx ends. It
// reports whether Trillian already had the leaf (a retry, or the same leaf appended
// twice).
func (l *Log) queue(ctx context.Context, leaf []byte) (dup bool, err error) {
	req := &trillian.QueueLeafRequest{LogId: l.cfg.TreeID, Leaf: &trillian.LogLeaf{LeafValue: leaf}}
	attempt := 0
	return backoff.Retry(ctx, func() (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		resp, err := l.client.QueueLeaf(rctx, req)
		cancel()
		if err != nil {
			if attempt++; !transient(err, attempt) {
				return false, backoff.Permanent(err)
			}
			l.cfg.Logger.DebugContext(ctx, "retrying QueueLeaf", "tree_id", l.cfg.TreeID, "err", err)
			return false, err
		}
		switch c := codes.Code(resp.GetQueuedLeaf().GetStatus().GetCode()); c {
		case codes.OK:
			return false, nil
		case codes.AlreadyExists:
			return true, nil
		default:
			return false, backoff.Permanent(fmt.Errorf("leaf refused: %s: %s", c, resp.GetQueuedLeaf().GetStatus().GetMessage()))
		}
	}, backoff.WithBackOff(queueBackOff()), backoff.WithMaxElapsedTime(0))
}

// queueBackOff is the pause between QueueLeaf attempts: from retryInterval, growing to
// a few seconds while Trillian stays unavailable.
func queueBackOff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = retryInterval, maxRetryInterval
	return b
}

// transient reports whether QueueLeaf may succeed if tried again after failing with err
// attempt times. Retrying is safe: Trillian keeps one copy of a leaf.
func transient(err error, attempt int) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	case codes.Unknown:
		// Trillian's MySQL storage answers Unknown ("failed to retrieve all existing
		// leaves") when the same leaf is queued concurrently and the other copy is not
		// committed yet; the retry sees it.
		return attempt <= maxUnknownRetries
	}
	return false
}

// Close stops the follower, fails the appends still waiting and closes the connection.
// Closing again does nothing.
func (l *Log) Close(ctx context.Context) error {
	l.cancel()
	select {
	case <-l.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	l.closeOnce.Do(func() {
		l.failAll(errors.New("trillianlog: log closed"))
		l.closeErr = l.conn.Close()
	})
	return l.closeErr
}
