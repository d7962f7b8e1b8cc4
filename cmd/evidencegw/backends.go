package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/catalog/postgres"
	"github.com/evidencegw/evidencegw/catalog/sqlite"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/localfs"
	"github.com/prometheus/client_golang/prometheus"
)

// backends are the gateway's store, keys and log, embedded or real.
type backends struct {
	store    storage.Store
	dataKeys keys.DataKeys
	// rotator rotates key-encryption keys and rewraps data keys; nil for local keys.
	rotator exhibit.Rotator
	log     ledger.Log
	signer  ledger.Signer
	// eventKeys lists the event key versions now (they may rotate while the gateway
	// runs); checkpointVerifierKey verifies the log's checkpoints.
	eventKeys             func(context.Context) ([]custody.TrustedKey, error)
	checkpointVerifierKey string
	// eventKeyRotator rotates the custody event key; nil for local keys.
	eventKeyRotator interface {
		RotateEventKey(ctx context.Context) error
	}
	// witnesses is what the trust root says of the witness policy.
	witnesses custody.Witnesses
	ready     func(context.Context) error
	// agencies are the CAs of each agency's members (agencies.go).
	agencies *agencyCAs
	trusted  []custody.TrustedAgency
	// catalog is the derived view of cases, exhibits, grants and requests.
	catalog catalog.Catalog
	// cfg and logger are set by operator commands that build a Service themselves.
	cfg     Config
	logger  *slog.Logger
	closers []func(context.Context) error
}

func (b *backends) close(ctx context.Context) {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i](ctx)
	}
}

// trustRoot returns the trust root of now: the event keys, the log and its key, parsed
// back so that the gateway serves only a trust root a court can load.
func (b *backends) trustRoot(origin string) func(context.Context) (*custody.TrustRoot, error) {
	return func(ctx context.Context) (*custody.TrustRoot, error) {
		eventKeys, err := b.eventKeys(ctx)
		if err != nil {
			return nil, err
		}
		tr := &custody.TrustRoot{MediaType: custody.TrustRootMediaType, EventKeys: eventKeys,
			Log: custody.TrustedLog{Origin: origin, VerifierKey: b.checkpointVerifierKey}, Witnesses: b.witnesses,
			Agencies: b.trusted}
		raw, err := tr.Marshal()
		if err != nil {
			return nil, err
		}
		parsed, err := custody.ParseTrustRoot(raw)
		if err != nil {
			return nil, fmt.Errorf("building trust root: %w", err)
		}
		return parsed, nil
	}
}

// witnessHTTPClient asks the witnesses; each round is bounded by the witness timeout.
var witnessHTTPClient = &http.Client{Timeout: time.Minute}

// opener says who opens the backends: the gateway itself, or an operator command that
// may run beside a running gateway and must not disturb it.
type opener int

const (
	asServer opener = iota
	asOperator
)

// openBackends opens what the configuration selects. The embedded default keeps all of
// it in the data directory.
func openBackends(ctx context.Context, cfg Config, dataDir string, logger *slog.Logger, who opener) (*backends, error) {
	be := &backends{}
	if err := be.openTrust(cfg, dataDir); err != nil {
		return nil, err
	}
	var err error
	if be.store, err = openStore(ctx, cfg.Backends.Storage, dataDir, logger, who); err != nil {
		return nil, err
	}
	ks, err := openKeys(ctx, cfg, dataDir, logger)
	if err != nil {
		return nil, err
	}
	be.dataKeys, be.rotator, be.signer, be.ready = ks.dataKeys, ks.rotator, ks.signer, ks.ready
	be.eventKeys, be.checkpointVerifierKey, be.eventKeyRotator = ks.eventKeys, ks.checkpointVerifierKey, ks.eventKeyRotator
	if be.log, err = openLog(ctx, cfg, dataDir, be.store, ks, logger, be); err != nil {
		be.close(ctx)
		return nil, err
	}
	if _, err := be.trustRoot(cfg.LogOrigin)(ctx); err != nil {
		be.close(ctx)
		return nil, err
	}
	if be.catalog, err = openCatalog(ctx, cfg.Backends.Catalog, dataDir); err != nil {
		be.close(ctx)
		return nil, err
	}
	be.closers = append(be.closers, func(context.Context) error { return be.catalog.Close() })
	return be, nil
}

// openTrust sets what the trust root says besides the keys: the witness policy and the
// agencies with the CAs of their members.
func (b *backends) openTrust(cfg Config, dataDir string) error {
	b.witnesses = custody.Witnesses{Keys: []string{}}
	if cfg.Witnesses.parsed != nil {
		b.witnesses = custody.WitnessesFromPolicy(cfg.Witnesses.parsed)
	}
	var err error
	if b.agencies, err = openAgencyCAs(cfg, dataDir); err != nil {
		return err
	}
	b.trusted = b.agencies.trusted(cfg)
	return nil
}

// openCatalog opens the catalog's database: the SQLite file of the data directory by
// default, or PostgreSQL. Either is migrated to the latest schema.
func openCatalog(ctx context.Context, cc CatalogConfig, dataDir string) (catalog.Catalog, error) {
	if cc.Type == "postgres" {
		url, err := valueOrFile(cc.URL, cc.URLFile)
		if err != nil {
			return nil, fmt.Errorf("reading the catalog database URL: %w", err)
		}
		return postgres.Open(ctx, url)
	}
	path := cc.Path
	if path == "" {
		path = filepath.Join(dataDir, "catalog.db")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the catalog's directory: %w", err)
	}
	return sqlite.Open(ctx, path)
}

// newService builds the application layer on the backends, with the policies of cfg.
func newService(cfg Config, be *backends, logger *slog.Logger, reg prometheus.Registerer) (*exhibit.Service, error) {
	pol, err := policy.New(policy.Config{Dir: cfg.Policies, Instruments: cfg.Instruments})
	if err != nil {
		return nil, err
	}
	agencies := make([]exhibit.Agency, len(cfg.Agencies))
	for i, a := range cfg.Agencies {
		agencies[i] = exhibit.Agency{ID: a.ID, Jurisdiction: a.Jurisdiction, CAs: be.agencies.certs[a.ID]}
	}
	return exhibit.New(exhibit.Config{Store: be.store, Keys: be.dataKeys, Log: be.log, Signer: be.signer, Policy: pol,
		Instruments: pol.Instruments(), Catalog: be.catalog,
		Agencies: agencies, Retention: cfg.Retention.periods, TrustRoot: be.trustRoot(cfg.LogOrigin), Rotator: be.rotator, Logger: logger, Registry: reg,
		Step: crashHook(), UploadExpiry: cfg.Uploads.Expiry, OrphanGrace: cfg.Uploads.OrphanGrace,
		UploadPartSegments: uint32(cfg.Uploads.PartMiB),
		FoldCacheBytes:     cfg.ChainCache.MaxBytes, ChainRecheck: cfg.ChainCache.Recheck})
}

func openStore(ctx context.Context, sc StorageConfig, dataDir string, logger *slog.Logger, who opener) (storage.Store, error) {
	if sc.Type == "s3" {
		return openS3(ctx, sc, logger)
	}
	// Only the gateway removes what its own interrupted uploads left.
	return localfs.New(ctx, localfs.Config{Dir: filepath.Join(dataDir, "store"), Logger: logger, KeepTemp: who == asOperator})
}

// keySet is what a key manager provides.
type keySet struct {
	dataKeys              keys.DataKeys
	rotator               exhibit.Rotator
	signer                ledger.Signer
	eventKeys             func(context.Context) ([]custody.TrustedKey, error)
	checkpointSigner      note.Signer
	checkpointVerifierKey string
	ready                 func(context.Context) error
	eventKeyRotator       interface {
		RotateEventKey(ctx context.Context) error
	}
}

func openKeys(ctx context.Context, cfg Config, dataDir string, logger *slog.Logger) (*keySet, error) {
	if cfg.Backends.Keys.Type == "vault" {
		return openVault(ctx, cfg, logger)
	}
	km, err := keys.OpenLocal(filepath.Join(dataDir, "keys"), cfg.LogOrigin)
	if err != nil {
		return nil, err
	}
	eventKeys, err := km.EventKeys(ctx)
	if err != nil {
		return nil, err
	}
	return &keySet{dataKeys: km, signer: ledger.Signer{SignerVerifier: km.EventSigner(), KeyID: eventKeys[0].KeyID},
		eventKeys: km.EventKeys, checkpointSigner: km.CheckpointSigner(), checkpointVerifierKey: km.CheckpointVerifierKey()}, nil
}

func openLog(ctx context.Context, cfg Config, dataDir string, store storage.Store, ks *keySet, logger *slog.Logger, be *backends) (ledger.Log, error) {
	if cfg.Backends.Log.Type == "trillian" {
		return openTrillian(ctx, cfg, store, ks, logger, be)
	}
	v, err := note.NewVerifier(ks.checkpointVerifierKey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint verifier key: %w", err)
	}
	tlog, err := tesseralog.New(ctx, tesseralog.Config{Dir: filepath.Join(dataDir, "log"), Signer: ks.checkpointSigner, Verifier: v,
		Checkpoints: exhibit.NewCheckpointStore(store), Witnesses: cfg.Witnesses.group, WitnessTimeout: cfg.Witnesses.Timeout,
		HTTPClient: witnessHTTPClient, Logger: logger})
	if err != nil {
		return nil, err
	}
	be.closers = append(be.closers, tlog.Close)
	return tlog, nil
}
