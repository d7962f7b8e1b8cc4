package main

import (
	"context"
	"errors"
	"log/slog"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/custody/ledger"
	"github.com/evidencegw/evidencegw/gateway"
	"github.com/evidencegw/evidencegw/storage"
)

// The real backends (MinIO, Vault, Trillian) are wired here.

func openS3(ctx context.Context, sc gateway.StorageConfig, logger *slog.Logger) (storage.Store, error) {
	return nil, errors.New("s3 storage: not wired yet")
}

func openVault(ctx context.Context, cfg gateway.Config, logger *slog.Logger) (*keySet, error) {
	return nil, errors.New("vault keys: not wired yet")
}

func openTrillian(ctx context.Context, lc gateway.LogConfig, store storage.Store, signer note.Signer, logger *slog.Logger, be *backends) (ledger.Log, error) {
	return nil, errors.New("trillian log: not wired yet")
}
