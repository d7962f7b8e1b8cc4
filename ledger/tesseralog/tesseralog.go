// Package tesseralog is the embedded transparency log of the gateway: a Tessera log
// (github.com/transparency-dev/tessera) on the POSIX driver, in a directory of the data
// directory, with checkpoints signed by a note.Signer. It implements ledger.Log and
// ledger.LeafReader.
//
// It may import ledger and Tessera; it must not import the application layer, the
// object store or anything HTTP. The POSIX driver is single-writer: one gateway
// process per log directory.
package tesseralog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
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
)

// Config configures the embedded log.
type Config struct {
	// Dir holds the log's tiles, entry bundles and checkpoint.
	Dir string
	// Signer signs checkpoints; its name is the log origin.
	Signer note.Signer
	Logger *slog.Logger
}

// Log is an embedded Tessera log. It is safe for concurrent use.
type Log struct {
	appender *tessera.Appender
	reader   tessera.LogReader
	awaiter  *tessera.PublicationAwaiter
	shutdown func(context.Context) error
	cancel   context.CancelFunc
}

var _ ledger.Log = (*Log)(nil)

// New opens (creating if needed) the log in cfg.Dir. Only one process may open a
// directory at a time. Close releases it.
func New(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Signer == nil {
		return nil, errors.New("tesseralog: a checkpoint signer is required")
	}
	driver, err := posix.New(ctx, posix.Config{Path: cfg.Dir})
	if err != nil {
		return nil, fmt.Errorf("opening log directory %s: %w", cfg.Dir, err)
	}
	opts := tessera.NewAppendOptions().
		WithCheckpointSigner(cfg.Signer).
		WithBatching(tessera.DefaultBatchMaxSize, batchMaxAge).
		WithCheckpointInterval(checkpointInterval).
		WithShutdownTimeout(shutdownTimeout)
	// The log lives as long as the Log, not the caller's ctx.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	appender, shutdown, reader, err := tessera.NewAppender(lctx, driver, opts)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting log in %s: %w", cfg.Dir, err)
	}
	return &Log{
		appender: appender,
		reader:   reader,
		awaiter:  tessera.NewPublicationAwaiter(lctx, reader.ReadCheckpoint, pollPeriod),
		shutdown: shutdown,
		cancel:   cancel,
	}, nil
}

// Append implements ledger.Log.
func (l *Log) Append(ctx context.Context, leaf []byte) (uint64, ledger.Checkpoint, error) {
	idx, raw, err := l.awaiter.Await(ctx, l.appender.Add(ctx, tessera.NewEntry(leaf)))
	if err != nil {
		return 0, ledger.Checkpoint{}, fmt.Errorf("appending to the embedded log: %w", err)
	}
	cp, err := ledger.ParseCheckpoint(raw)
	if err != nil {
		return 0, ledger.Checkpoint{}, fmt.Errorf("appending to the embedded log: %w", err)
	}
	return idx.Index, cp, nil
}

// Checkpoint implements ledger.Log.
func (l *Log) Checkpoint(ctx context.Context) (ledger.Checkpoint, error) {
	raw, err := l.reader.ReadCheckpoint(ctx)
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("reading the embedded log's checkpoint: %w", err)
	}
	cp, err := ledger.ParseCheckpoint(raw)
	if err != nil {
		return ledger.Checkpoint{}, fmt.Errorf("reading the embedded log's checkpoint: %w", err)
	}
	return cp, nil
}

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

var _ ledger.LeafReader = (*Log)(nil)

// Leaves implements ledger.LeafReader, reading the log's entry bundles.
func (l *Log) Leaves(ctx context.Context, start, count, treeSize uint64) ([][]byte, error) {
	if count == 0 || start+count > treeSize {
		return nil, fmt.Errorf("leaves [%d, %d) outside the tree of size %d", start, start+count, treeSize)
	}
	var out [][]byte
	for i := start; i < start+count; {
		b, err := client.GetEntryBundle(ctx, l.reader.ReadEntryBundle, i/layout.EntryBundleWidth, treeSize)
		if err != nil {
			return nil, fmt.Errorf("reading entry bundle of leaf %d: %w", i, err)
		}
		off := i % layout.EntryBundleWidth
		for ; off < uint64(len(b.Entries)) && i < start+count; off, i = off+1, i+1 {
			out = append(out, b.Entries[off])
		}
	}
	return out, nil
}
