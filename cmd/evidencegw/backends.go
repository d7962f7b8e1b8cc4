package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/gateway"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
)

// backends are the gateway's store, keys and log, embedded or real.
type backends struct {
	store     storage.Store
	dataKeys  keys.DataKeys
	rotator   gateway.Rotator
	log       ledger.Log
	signer    ledger.Signer
	trustRoot *custody.TrustRoot
	// currentTrustRoot rebuilds the trust root with the event keys of now; nil when
	// they cannot change while the gateway runs.
	currentTrustRoot func(context.Context) (*custody.TrustRoot, error)
	// eventKeyRotator rotates the custody event key; nil for local keys.
	eventKeyRotator interface {
		RotateEventKey(ctx context.Context) error
	}
	ready   func(context.Context) error
	closers []func(context.Context) error
}

func (b *backends) close(ctx context.Context) {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i](ctx)
	}
}

// openBackends opens what the configuration selects. The embedded default keeps all of
// it in the data directory.
func openBackends(ctx context.Context, cfg gateway.Config, dataDir string, logger *slog.Logger) (*backends, error) {
	be := &backends{}
	var err error
	if be.store, err = openStore(ctx, cfg.Backends.Storage, dataDir, logger); err != nil {
		return nil, err
	}
	ks, err := openKeys(ctx, cfg, dataDir, logger)
	if err != nil {
		return nil, err
	}
	be.dataKeys, be.rotator, be.signer, be.ready = ks.dataKeys, ks.rotator, ks.signer, ks.ready
	if be.log, err = openLog(ctx, cfg, dataDir, be.store, ks, logger, be); err != nil {
		return nil, err
	}
	if be.trustRoot, err = buildTrustRoot(ks.eventKeys, cfg.LogOrigin, ks.checkpointVerifierKey); err != nil {
		return nil, err
	}
	if ks.currentEventKeys != nil {
		be.currentTrustRoot = func(ctx context.Context) (*custody.TrustRoot, error) {
			keys, err := ks.currentEventKeys(ctx)
			if err != nil {
				return nil, err
			}
			return buildTrustRoot(keys, cfg.LogOrigin, ks.checkpointVerifierKey)
		}
	}
	be.eventKeyRotator = ks.eventKeyRotator
	return be, nil
}

// buildTrustRoot describes the event keys and the log, and parses the result back: the
// gateway serves only a trust root that a court can load.
func buildTrustRoot(eventKeys []custody.TrustedKey, origin, verifierKey string) (*custody.TrustRoot, error) {
	tr := &custody.TrustRoot{MediaType: custody.TrustRootMediaType, EventKeys: eventKeys,
		Log: custody.TrustedLog{Origin: origin, VerifierKey: verifierKey}, Witnesses: custody.Witnesses{Keys: []string{}}}
	b, err := tr.Marshal()
	if err != nil {
		return nil, err
	}
	parsed, err := custody.ParseTrustRoot(b)
	if err != nil {
		return nil, fmt.Errorf("building trust root: %w", err)
	}
	return parsed, nil
}

func openStore(ctx context.Context, sc gateway.StorageConfig, dataDir string, logger *slog.Logger) (storage.Store, error) {
	if sc.Type == "s3" {
		return openS3(ctx, sc, logger)
	}
	return localfs.New(ctx, localfs.Config{Dir: filepath.Join(dataDir, "store"), Logger: logger})
}

// keySet is what a key manager provides.
type keySet struct {
	dataKeys keys.DataKeys
	// rotator rotates key-encryption keys and rewraps data keys; nil for local keys.
	rotator               gateway.Rotator
	signer                ledger.Signer
	eventKeys             []custody.TrustedKey
	checkpointSigner      note.Signer
	checkpointVerifierKey string
	ready                 func(context.Context) error
	// currentEventKeys lists the event key versions now, where they can rotate.
	currentEventKeys func(context.Context) ([]custody.TrustedKey, error)
	eventKeyRotator  interface {
		RotateEventKey(ctx context.Context) error
	}
}

func openKeys(ctx context.Context, cfg gateway.Config, dataDir string, logger *slog.Logger) (*keySet, error) {
	if cfg.Backends.Keys.Type == "vault" {
		return openVault(ctx, cfg, logger)
	}
	dir := filepath.Join(dataDir, "keys")
	km, err := keys.OpenLocal(dir, cfg.LogOrigin)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(filepath.Join(dir, keys.EventKeyFile))
	if err != nil {
		return nil, fmt.Errorf("reading event key: %w", err)
	}
	// The key is valid from its creation (a minute of slack for clock steps).
	tk, err := custody.NewTrustedKey(km.EventPublicKey(), fi.ModTime().Add(-time.Minute).Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	return &keySet{dataKeys: km, signer: ledger.Signer{SignerVerifier: km.EventSigner(), KeyID: tk.KeyID},
		eventKeys: []custody.TrustedKey{tk}, checkpointSigner: km.CheckpointSigner(),
		checkpointVerifierKey: km.CheckpointVerifierKey()}, nil
}

func openLog(ctx context.Context, cfg gateway.Config, dataDir string, store storage.Store, ks *keySet, logger *slog.Logger, be *backends) (ledger.Log, error) {
	if cfg.Backends.Log.Type == "trillian" {
		return openTrillian(ctx, cfg.Backends.Log, store, ks, logger, be)
	}
	tlog, err := tesseralog.New(ctx, tesseralog.Config{Dir: filepath.Join(dataDir, "log"), Signer: ks.checkpointSigner, Logger: logger})
	if err != nil {
		return nil, err
	}
	be.closers = append(be.closers, tlog.Close)
	return tlog, nil
}
