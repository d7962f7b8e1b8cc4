package trillianlog_test

import (
	"context"
	"log/slog"

	"golang.org/x/mod/sumdb/note"

	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/trillianlog"
)

// ExampleNew wires a Trillian-backed log (the `log: type: trillian` backend).
func ExampleNew() {
	var (
		ctx      = context.Background()
		signer   note.Signer            // the gateway's checkpoint key
		verifier note.Verifier          // its public half
		store    ledger.CheckpointStore // the checkpoints, shared by every replica
	)
	l, err := trillianlog.New(ctx, trillianlog.Config{
		Address:     "127.0.0.1:8090",
		TreeID:      8621173130143394975,
		Signer:      signer,
		Verifier:    verifier,
		Checkpoints: store,
		Logger:      slog.Default(),
	})
	if err != nil {
		slog.Error("opening the transparency log", "err", err)
		return
	}
	defer l.Close(ctx)
	index, checkpoint, err := l.Append(ctx, []byte("leaf"))
	_, _, _ = index, checkpoint, err
}
