package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody/ledger"
	"github.com/evidencegw/evidencegw/gateway"
	"github.com/evidencegw/evidencegw/keys/vault"
	"github.com/evidencegw/evidencegw/storage"
)

// The real backends (MinIO, Vault, Trillian) are wired here.

func openS3(ctx context.Context, sc gateway.StorageConfig, logger *slog.Logger) (storage.Store, error) {
	return nil, errors.New("s3 storage: not wired yet")
}

func openVault(ctx context.Context, cfg gateway.Config, logger *slog.Logger) (*keySet, error) {
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
	eventKeys, err := m.EventKeys(ctx)
	if err != nil {
		return nil, err
	}
	cs, vkey, err := m.CheckpointSigner(ctx)
	if err != nil {
		return nil, err
	}
	return &keySet{dataKeys: m, rotator: m, signer: ledger.Signer{SignerVerifier: sv, KeyID: keyID}, eventKeys: eventKeys,
		checkpointSigner: cs, checkpointVerifierKey: vkey,
		ready: func(ctx context.Context) error { _, err := m.EventKeys(ctx); return err }}, nil
}

func openTrillian(ctx context.Context, lc gateway.LogConfig, store storage.Store, signer note.Signer, logger *slog.Logger, be *backends) (ledger.Log, error) {
	return nil, errors.New("trillian log: not wired yet")
}
