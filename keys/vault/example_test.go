package vault_test

import (
	"context"
	"log"
	"log/slog"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/keys/vault"
	"github.com/evidencegw/evidencegw/ledger"
)

// Wiring the Vault key manager: data keys for storage, the event signer for the
// ledger, the checkpoint signer for the log, and the event keys for the trust root.
// (Not run: it needs a Vault.)
func Example() {
	ctx := context.Background()
	km, err := vault.New(ctx, vault.Config{
		Address:       "https://vault.internal:8200",
		Token:         "token read from a file by cmd/",
		KEKs:          map[string]string{"NL": "evidence-nl", "US": "evidence-us"},
		EventKey:      "custody-events",
		CheckpointKey: "log-checkpoints",
		LogOrigin:     "evidence.example.org/log",
		Logger:        slog.Default(),
	})
	if err != nil {
		log.Fatal(err) // wraps keys.ErrUnavailable if Vault is unreachable or sealed
	}
	sv, keyID, err := km.EventSigner(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_ = ledger.Signer{SignerVerifier: sv, KeyID: keyID}

	checkpointSigner, verifierKey, err := km.CheckpointSigner(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_ = checkpointSigner // the log's note.Signer

	eventKeys, err := km.EventKeys(ctx)
	if err != nil {
		log.Fatal(err)
	}
	_ = custody.TrustRoot{
		EventKeys: eventKeys,
		Log:       custody.TrustedLog{Origin: "evidence.example.org/log", VerifierKey: verifierKey},
	}
}
