package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// Rotator rotates a jurisdiction's key-encryption key and rewraps data keys to its
// latest version (Vault Transit rotate and rewrap). Safe for concurrent use.
type Rotator interface {
	Rotate(ctx context.Context, jurisdiction string) error
	Rewrap(ctx context.Context, keyRef string, wrapped, aad []byte) ([]byte, error)
}

// KeyRotation is the wiring of RotateKeys.
type KeyRotation struct {
	Store   storage.Store
	Ledger  *ledger.Ledger
	Rotator Rotator
	// Actor is who rotates, recorded in each key-rewrap event.
	Actor  custody.Party
	Logger *slog.Logger
}

// RotateKeys rotates the key-encryption key of a jurisdiction, then rewraps the data key
// of every evidence item kept there to the new version, without touching any
// ciphertext. Each rewrap writes the next version of the item's wrapped data key (the
// old one stays, write-once) and is recorded as a key-rewrap custody event. Safe to run
// while the gateway serves: a concurrent custody append is retried, and items uploaded
// meanwhile keep a key that still unwraps. Returns how many items were rewrapped.
func RotateKeys(ctx context.Context, kr KeyRotation, jurisdiction string) (int, error) {
	if kr.Logger == nil {
		kr.Logger = slog.New(slog.DiscardHandler)
	}
	if err := kr.Rotator.Rotate(ctx, jurisdiction); err != nil {
		return 0, fmt.Errorf("rotating the key-encryption key of %s: %w", jurisdiction, err)
	}
	names, err := kr.Store.List(ctx, storage.ContentPrefix+jurisdiction+"/")
	if err != nil {
		return 0, fmt.Errorf("listing the content of %s: %w", jurisdiction, err)
	}
	n := 0
	for _, id := range itemsWithDataKeys(names) {
		if err := kr.rewrapItem(ctx, jurisdiction, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// itemsWithDataKeys returns the evidence ids that have a wrapped data key, in order.
func itemsWithDataKeys(names []string) []string {
	var ids []string
	for _, name := range names {
		parts := strings.Split(name, "/") // content/J/<id>/datakey/<n>.json
		if len(parts) == 5 && parts[3] == "datakey" && custody.ValidEvidenceID(parts[2]) &&
			(len(ids) == 0 || ids[len(ids)-1] != parts[2]) {
			ids = append(ids, parts[2])
		}
	}
	return ids
}

func (kr KeyRotation) rewrapItem(ctx context.Context, j, id string) error {
	for range chainRetries {
		err := kr.rewrapOnce(ctx, j, id)
		if !errors.Is(err, ledger.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("rewrapping %s: %w", id, ledger.ErrConflict)
}

func (kr KeyRotation) rewrapOnce(ctx context.Context, j, id string) error {
	chain, err := kr.Ledger.Load(ctx, id)
	if err != nil {
		return fmt.Errorf("loading custody chain of %s: %w", id, err)
	}
	st := fold(chain)
	dk, version, err := latestDataKey(ctx, kr.Store, j, id)
	if err != nil {
		return err
	}
	wrapped, err := kr.Rotator.Rewrap(ctx, dk.KeyRef, dk.Wrapped, []byte(id))
	if err != nil {
		return fmt.Errorf("rewrapping the data key of %s: %w", id, err)
	}
	b, err := json.Marshal(storedDataKey{KeyRef: dk.KeyRef, Wrapped: wrapped})
	if err != nil {
		return err
	}
	if _, err := kr.Store.Create(ctx, dataKeyName(j, id, version+1), strings.NewReader(string(b))); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return ledger.ErrConflict // another rotation wrote that version: start again
		}
		return fmt.Errorf("storing the rewrapped data key of %s: %w", id, err)
	}
	facts := *st.register.Storage
	_, err = kr.Ledger.Append(ctx, chain, "", custody.Event{EvidenceID: id, CaseID: st.register.CaseID,
		Action: custody.ActionKeyRewrap, Actor: kr.Actor, Storage: &facts,
		Detail: fmt.Sprintf("data key rewrapped to the latest version of %s (wrapped key version %d); ciphertext untouched", dk.KeyRef, version+1)})
	if err != nil {
		return fmt.Errorf("recording the rewrap of %s: %w", id, err)
	}
	kr.Logger.InfoContext(ctx, "data key rewrapped", "evidence_id", id, "version", version+1)
	return nil
}

// latestDataKey reads the newest wrapped data key of an item and its version number.
func latestDataKey(ctx context.Context, store storage.Store, j, id string) (storedDataKey, int, error) {
	names, err := store.List(ctx, storage.ContentName(j, id, "datakey/"))
	if err != nil || len(names) == 0 {
		return storedDataKey{}, 0, fmt.Errorf("finding data key of %s: %v", id, err)
	}
	last := names[len(names)-1]
	version, err := strconv.Atoi(strings.TrimSuffix(last[strings.LastIndex(last, "/")+1:], ".json"))
	if err != nil {
		return storedDataKey{}, 0, fmt.Errorf("data key name %s: %w", last, err)
	}
	rc, _, err := store.Open(ctx, last, "")
	if err != nil {
		return storedDataKey{}, 0, fmt.Errorf("reading data key of %s: %w", id, err)
	}
	defer rc.Close()
	var dk storedDataKey
	if err := json.NewDecoder(io.LimitReader(rc, 64<<10)).Decode(&dk); err != nil {
		return storedDataKey{}, 0, fmt.Errorf("decoding data key of %s: %w", id, err)
	}
	return dk, version, nil
}
