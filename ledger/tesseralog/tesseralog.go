// Package tesseralog is the embedded transparency log of the gateway: a Tessera log
// (github.com/transparency-dev/tessera) on the POSIX driver, in a directory of the data
// directory, with checkpoints signed by a note.Signer. It implements ledger.Log and
// ledger.LeafReader.
//
// # Trusting nothing on disk
//
// The log's files (tiles, entry bundles, the checkpoint) can be edited or restored from
// an older copy by anyone with the disk, so the log trusts them only once they recompute
// to a root it verified:
//
//   - Every checkpoint the log publishes is also stored in a ledger.CheckpointStore
//     outside the log directory (the gateway's write-once object store) before any
//     append it covers returns.
//   - At start-up the log directory must hold a checkpoint at least as large as the
//     newest stored one, with the same root for the same size (no rollback, no fork),
//     every tile and entry bundle must recompute to its checkpoint's root (tessera's
//     fsck), and that root must extend the newest stored one. Otherwise New fails with
//     a *DamageError naming the damage.
//   - Before it signs a checkpoint, the log recomputes the new root from the last root
//     it signed and the new entries read back from the entry bundles; a root that does
//     not recompute is refused (a *DamageError), and appends fail with it instead of
//     waiting: nothing is signed over damage.
//   - Leaves are served only after they are proven to belong to the latest verified
//     checkpoint.
//
// Check runs the start-up checks on a directory without opening it, and names the
// tiles and entry bundles that are missing or wrong; Rebuild rewrites damaged entry
// bundles under intact tiles from leaves the caller finds by hash (the gateway: from
// its stored custody events). Neither signs anything.
//
// It may import ledger and Tessera; it must not import the application layer, the
// object store or anything HTTP. The POSIX driver is single-writer: one gateway
// process per log directory.
package tesseralog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
	"github.com/transparency-dev/tessera/storage/posix"
	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
)

// Tuning of the embedded log. A custody request waits until its event is covered by a
// published checkpoint, so these bound the latency of every state-changing request.
const (
	// batchMaxAge is how long an entry may wait to be sequenced with others.
	batchMaxAge = 20 * time.Millisecond
	// checkpointInterval is how often a new checkpoint is published (Tessera's POSIX
	// minimum is 100 ms).
	checkpointInterval = 100 * time.Millisecond
	// pollPeriod is how often waiting appends look for a new checkpoint.
	pollPeriod = 10 * time.Millisecond
	// shutdownTimeout bounds how long Close waits for queued entries.
	shutdownTimeout = 10 * time.Second
	// fsckWorkers is how many goroutines the start-up check of the log uses.
	fsckWorkers = 2
)

// Config configures the embedded log.
type Config struct {
	// Dir holds the log's tiles, entry bundles and checkpoint.
	Dir string
	// Signer signs checkpoints; its name is the log origin. Verifier is its public
	// half: it checks the checkpoints read back from Dir and from Checkpoints.
	Signer   note.Signer
	Verifier note.Verifier
	// Checkpoints keeps every published checkpoint outside Dir, write-once.
	Checkpoints ledger.CheckpointStore
	// Witnesses, if set, is the witness policy (tessera.NewWitnessGroupFromPolicy)
	// whose quorum must cosign every checkpoint before Tessera publishes it
	// (tessera's AppendOptions.WithWitnesses, failing closed). An append whose
	// checkpoint is not cosigned within WitnessTimeout (plus the batching and
	// publication intervals) fails with an error matching ledger.ErrWitnessQuorum.
	// A new log's first (empty) checkpoint must be cosigned too: New fails if the
	// witnesses do not answer.
	Witnesses *tessera.WitnessGroup
	// WitnessTimeout bounds one round of cosigning; tessera.DefaultWitnessTimeout if
	// zero.
	WitnessTimeout time.Duration
	// HTTPClient makes the witness requests; http.DefaultClient if nil.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Log is an embedded Tessera log. It is safe for concurrent use.
type Log struct {
	cfg      Config
	files    client.FileFetcher
	appender *tessera.Appender
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc

	mu sync.Mutex
	// signed is the newest root the guard let the signer sign; recent the last
	// roots it signed, newest last (with witnesses, a root may be published after a
	// newer one was signed: its witnessing took longer).
	signed root
	recent []root
	// published is the newest published checkpoint read back and verified.
	published ledger.Checkpoint
	// refused is closed, and refusal set, when the guard first refused to sign.
	refused chan struct{}
	refusal error

	// witnessed records the witnesses' answers, to say why a quorum was not met.
	witnessed *witnessRecorder

	// persistMu serializes writes to the checkpoint store; persisted is the size of
	// the newest checkpoint stored there.
	persistMu sync.Mutex
	persisted uint64
}

// root is a tree size and its root hash.
type root struct {
	size uint64
	hash []byte
}

var (
	_ ledger.Log        = (*Log)(nil)
	_ ledger.LeafReader = (*Log)(nil)
)

// New opens (creating if needed) the log in cfg.Dir after checking it against the
// newest checkpoint in cfg.Checkpoints (see the package doc): damage is a *DamageError
// and the log does not open. Only one process may open a directory at a time. Close
// releases it.
func New(ctx context.Context, cfg Config) (*Log, error) {
	switch {
	case cfg.Signer == nil || cfg.Verifier == nil:
		return nil, errors.New("tesseralog: a checkpoint signer and its verifier are required")
	case cfg.Signer.Name() != cfg.Verifier.Name() || cfg.Signer.KeyHash() != cfg.Verifier.KeyHash():
		return nil, errors.New("tesseralog: the verifier is not the checkpoint signer's key")
	case cfg.Checkpoints == nil:
		return nil, errors.New("tesseralog: a checkpoint store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{cfg: cfg, files: client.FileFetcher{Root: cfg.Dir}, refused: make(chan struct{})}
	if err := l.checkStart(ctx); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	l.witnessed = newWitnessRecorder(hc, cfg.Witnesses)
	driver, err := posix.New(ctx, posix.Config{Path: cfg.Dir, HTTPClient: l.witnessed.client})
	if err != nil {
		return nil, fmt.Errorf("opening log directory %s: %w", cfg.Dir, err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(&guard{Signer: cfg.Signer, log: l}).
		WithBatching(tessera.DefaultBatchMaxSize, batchMaxAge).
		WithCheckpointInterval(checkpointInterval).
		WithShutdownTimeout(shutdownTimeout)
	if cfg.Witnesses != nil {
		if cfg.WitnessTimeout <= 0 {
			l.cfg.WitnessTimeout = tessera.DefaultWitnessTimeout
		}
		// FailOpen stays false: a checkpoint the quorum did not cosign is not published.
		opts = opts.WithWitnesses(*cfg.Witnesses, &tessera.WitnessOptions{Timeout: l.cfg.WitnessTimeout})
	}
	// The log lives as long as the Log, not the caller's ctx.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	appender, shutdown, reader, err := tessera.NewAppender(lctx, driver, opts)
	if err != nil {
		cancel()
		if cfg.Witnesses != nil {
			if werr := l.witnessed.quorumError(0, time.Time{}); len(werr.Refusals) > 0 {
				err = fmt.Errorf("%w: %w", err, werr)
			}
		}
		return nil, fmt.Errorf("starting log in %s: %w", cfg.Dir, err)
	}
	l.appender, l.reader, l.shutdown, l.cancel = appender, reader, shutdown, cancel
	l.awaiter = tessera.NewPublicationAwaiter(lctx, reader.ReadCheckpoint, pollPeriod)
	return l, nil
}

// Append implements ledger.Log. It returns once the leaf is covered by a published
// checkpoint that is also in the checkpoint store. If the log refuses to sign (damage),
// it fails with the *DamageError at once.
func (l *Log) Append(ctx context.Context, leaf []byte) (uint64, ledger.Checkpoint, error) {
	if err := l.refusalErr(); err != nil {
		return 0, ledger.Checkpoint{}, err
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	start := time.Now()
	if l.cfg.Witnesses != nil {
		// Tessera retries a checkpoint the witnesses did not cosign at every interval
		// and never tells the appends: bound their wait instead.
		var stop context.CancelFunc
		actx, stop = context.WithTimeoutCause(actx, l.witnessWait(), errWitnessWait)
		defer stop()
	}
	go func() {
		select {
		case <-l.refused:
			cancel(l.refusalErr())
		case <-actx.Done():
		}
	}()
	idx, raw, err := l.awaiter.Await(actx, l.appender.Add(actx, tessera.NewEntry(leaf)))
	if err != nil {
		if rerr := l.refusalErr(); rerr != nil {
			return 0, ledger.Checkpoint{}, rerr
		}
		if errors.Is(context.Cause(actx), errWitnessWait) && ctx.Err() == nil {
			l.mu.Lock()
			signed := l.signed.size
			l.mu.Unlock()
			werr := l.witnessed.quorumError(signed, start)
			if len(werr.Refusals) == 0 {
				werr.Refusals = []ledger.WitnessRefusal{{Detail: fmt.Sprintf("no cosigned checkpoint within %s", l.witnessWait())}}
			}
			l.cfg.Logger.WarnContext(ctx, "no cosigned checkpoint: witness quorum not met", "err", werr)
			return 0, ledger.Checkpoint{}, werr
		}
		if errors.Is(err, fs.ErrNotExist) {
			// A file the log builds on (the newest entry bundle, a tile) is gone:
			// the log is damaged, not busy, and signs nothing more.
			dmg := &DamageError{Kind: DamageCorrupt, Detail: fmt.Sprintf("a file of the log is missing: %v", err)}
			l.refuse(dmg)
			return 0, ledger.Checkpoint{}, dmg
		}
		return 0, ledger.Checkpoint{}, fmt.Errorf("appending to the embedded log: %w", err)
	}
	cp, err := l.accept(ctx, raw)
	if err != nil {
		return 0, ledger.Checkpoint{}, err
	}
	return idx.Index, cp, nil
}

func (l *Log) refusalErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refusal
}

// Checkpoint implements ledger.Log: the newest published checkpoint, checked against
// what the log signed and stored in the checkpoint store.
func (l *Log) Checkpoint(ctx context.Context) (ledger.Checkpoint, error) {
	raw, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("reading the embedded log's checkpoint: %w", err)
	}
	return l.accept(ctx, raw)
}

// accept verifies a checkpoint read back from the log directory against the roots the
// guard signed, records it as published if it is newer, stores it in the checkpoint
// store, and returns the newest published checkpoint.
func (l *Log) accept(ctx context.Context, raw []byte) (ledger.Checkpoint, error) {
	cp, err := l.open(raw)
	if err != nil {
		return ledger.Checkpoint{}, &DamageError{Kind: DamageCorrupt, Detail: "the log's checkpoint file does not verify: " + err.Error(), Found: raw}
	}
	l.mu.Lock()
	switch {
	case cp.Size > l.published.Size:
		if !l.signedLocked(cp.Size, cp.Hash) {
			l.mu.Unlock()
			return ledger.Checkpoint{}, &DamageError{Kind: DamageFork, Found: raw, Published: l.published.Note,
				Detail: fmt.Sprintf("the log's checkpoint of size %d is not the root the gateway signed (size %d)", cp.Size, l.signed.size)}
		}
		l.published = cp
	case cp.Size == l.published.Size && !bytesEqual(cp.Hash, l.published.Hash):
		l.mu.Unlock()
		return ledger.Checkpoint{}, &DamageError{Kind: DamageFork, Found: raw, Published: l.published.Note,
			Detail: fmt.Sprintf("two roots for tree size %d", cp.Size)}
	}
	// An older checkpoint file is a publication in progress or an edited file: the
	// newest verified one stands either way.
	latest := l.published
	l.mu.Unlock()
	if err := l.persist(ctx, latest); err != nil {
		return ledger.Checkpoint{}, err
	}
	return latest, nil
}

// persist stores cp in the checkpoint store unless a checkpoint at least as large is
// there already.
func (l *Log) persist(ctx context.Context, cp ledger.Checkpoint) error {
	l.persistMu.Lock()
	defer l.persistMu.Unlock()
	if cp.Size <= l.persisted && l.persisted > 0 {
		return nil
	}
	if err := l.cfg.Checkpoints.Put(ctx, cp.Size, cp.Note); err != nil {
		return fmt.Errorf("storing the checkpoint of size %d: %w", cp.Size, err)
	}
	l.persisted = cp.Size
	return nil
}

// open verifies a checkpoint note with the log's key and parses it.
func (l *Log) open(raw []byte) (ledger.Checkpoint, error) { return openCheckpoint(l.cfg.Verifier, raw) }

// InclusionProof implements ledger.Log.
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	pb, err := client.NewProofBuilder(ctx, size, l.reader.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("reading tiles of tree %d: %w", size, err)
	}
	return pb.InclusionProof(ctx, index)
}

// ConsistencyProof implements ledger.Log.
func (l *Log) ConsistencyProof(ctx context.Context, from, to uint64) ([][]byte, error) {
	pb, err := client.NewProofBuilder(ctx, to, l.reader.ReadTile)
	if err != nil {
		return nil, fmt.Errorf("reading tiles of tree %d: %w", to, err)
	}
	return pb.ConsistencyProof(ctx, from, to)
}

// Close waits for queued entries to be integrated and stops the log.
func (l *Log) Close(ctx context.Context) error {
	err := l.shutdown(ctx)
	l.cancel()
	return err
}

// Leaves implements ledger.LeafReader, reading the log's entry bundles. The leaves are
// returned only once proven to belong to the newest published checkpoint; leaves that
// do not are a *DamageError.
func (l *Log) Leaves(ctx context.Context, start, count, treeSize uint64) ([][]byte, error) {
	if count == 0 || start+count > treeSize {
		return nil, fmt.Errorf("leaves [%d, %d) outside the tree of size %d", start, start+count, treeSize)
	}
	cp, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	if treeSize > cp.Size {
		return nil, fmt.Errorf("tree size %d is beyond the published checkpoint's %d: %w", treeSize, cp.Size, ledger.ErrBadSize)
	}
	leaves, err := readLeaves(ctx, l.reader, start, start+count, cp.Size)
	if err != nil {
		return nil, &DamageError{Kind: DamageCorrupt, Detail: err.Error(), Published: cp.Note}
	}
	if err := verifyLeaves(ctx, l.reader, start, leaves, cp.Size, cp.Hash); err != nil {
		return nil, &DamageError{Kind: DamageCorrupt, Detail: err.Error(), Published: cp.Note}
	}
	return leaves, nil
}
