package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/keys/vault"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/trillianlog"
	"github.com/evidencegw/evidencegw/ledger/witness"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/s3"
)

// The real backends (MinIO, Vault, Trillian) are wired here.

// openS3 opens one object-locked bucket per jurisdiction for evidence content (data
// residency) and the custody bucket for events and checkpoints, behind a Router.
func openS3(ctx context.Context, sc StorageConfig, logger *slog.Logger) (storage.Store, error) {
	access, err := valueOrFile(sc.AccessKey, sc.AccessKeyFile)
	if err != nil {
		return nil, fmt.Errorf("reading the S3 access key: %w", err)
	}
	secret, err := valueOrFile(sc.SecretKey, sc.SecretKeyFile)
	if err != nil {
		return nil, fmt.Errorf("reading the S3 secret key: %w", err)
	}
	open := func(bucket, endpoint string) (storage.Store, error) {
		if endpoint == "" {
			endpoint = sc.Endpoint
		}
		return s3.New(ctx, s3.Config{Endpoint: endpoint, AccessKey: access, SecretKey: secret, Secure: sc.Secure,
			Bucket: bucket, Region: sc.Region, RetentionMode: sc.RetentionMode, Retention: sc.floor, Logger: logger})
	}
	custodyStore, err := open(sc.CustodyBucket, "")
	if err != nil {
		return nil, fmt.Errorf("opening custody bucket %s: %w", sc.CustodyBucket, err)
	}
	r := &storage.Router{Default: custodyStore, Jurisdictions: map[string]storage.Store{}, Place: exhibit.ContentJurisdiction}
	for j, bucket := range sc.Buckets {
		if r.Jurisdictions[j], err = open(bucket, sc.Endpoints[j]); err != nil {
			return nil, fmt.Errorf("opening the bucket of %s (%s): %w", j, bucket, err)
		}
	}
	return r, nil
}

func openVault(ctx context.Context, cfg Config, logger *slog.Logger) (*keySet, error) {
	kc := cfg.Backends.Keys
	token, err := os.ReadFile(kc.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("reading the vault token: %w", err)
	}
	m, err := vault.New(ctx, vault.Config{Address: kc.Address, Token: strings.TrimSpace(string(token)), Mount: kc.TransitMount,
		KEKs: kc.KEKs, EventKey: kc.EventKey, CheckpointKey: kc.CheckpointKey, LogOrigin: cfg.LogOrigin, Logger: logger})
	if err != nil {
		return nil, err
	}
	sv, keyID, err := m.EventSigner(ctx)
	if err != nil {
		return nil, err
	}
	cs, vkey, err := m.CheckpointSigner(ctx)
	if err != nil {
		return nil, err
	}
	return &keySet{dataKeys: m, rotator: m, eventKeys: m.EventKeys,
		// A rotated event key makes the signer fail; the ledger then loads the new one.
		signer:          ledger.Signer{SignerVerifier: sv, KeyID: keyID, Refresh: m.EventSigner},
		eventKeyRotator: m, checkpointSigner: cs, checkpointVerifierKey: vkey,
		ready: func(ctx context.Context) error { _, err := m.EventKeys(ctx); return err }}, nil
}

// openTrillian opens the Trillian log; the gateway signs its checkpoints and keeps them
// write-once in the custody store, shared by every replica.
func openTrillian(ctx context.Context, cfg Config, store storage.Store, ks *keySet, logger *slog.Logger, be *backends) (ledger.Log, error) {
	lc := cfg.Backends.Log
	v, err := note.NewVerifier(ks.checkpointVerifierKey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint verifier key: %w", err)
	}
	var wc *witness.Client
	if g := cfg.Witnesses.group; g != nil {
		wc = witness.New(witness.Config{Policy: *g, HTTPClient: witnessHTTPClient, Timeout: cfg.Witnesses.Timeout, Logger: logger})
	}
	l, err := trillianlog.New(ctx, trillianlog.Config{Address: lc.Address, TreeID: lc.TreeID, Signer: ks.checkpointSigner,
		Verifier: v, Checkpoints: exhibit.NewCheckpointStore(store), Witnesses: wc, Logger: logger})
	if err != nil {
		return nil, err
	}
	be.closers = append(be.closers, l.Close)
	return l, nil
}

// valueOrFile returns v, or the trimmed content of file when v is empty.
func valueOrFile(v, file string) (string, error) {
	if file == "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
