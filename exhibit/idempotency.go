package exhibit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/storage"
)

// An upload may carry an idempotency key (docs/api.md, "Idempotency-Key"): the client
// sends the same key when it retries an upload whose answer it never received, and gets
// the first upload's answer instead of a second exhibit. Each try of the upload is an
// attempt record, written before the content is sealed; a retry answers with the first
// attempt that registered its exhibit, or makes a new attempt if none did (the tries
// before it stopped part way: their objects are orphans, which Sweep quarantines).

// maxIdempotencyKey bounds an idempotency key, in bytes.
const maxIdempotencyKey = 255

// maxAttempts bounds the attempts kept under one key.
const maxAttempts = 100

// attempt is one try of an upload under an idempotency key.
type attempt struct {
	EvidenceID  string    `json:"evidence_id"`
	SHA256      string    `json:"sha256"`
	CaseID      string    `json:"case_id"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
}

// IdempotencyMismatchError is an idempotency key a member used before for another
// upload (other content, case or description).
type IdempotencyMismatchError struct {
	// EvidenceID is the exhibit the key was first used for.
	EvidenceID string
}

func (e *IdempotencyMismatchError) Error() string {
	return fmt.Sprintf("this Idempotency-Key was used for another upload (evidence %s): use a new key for a new upload", e.EvidenceID)
}

// ErrIdempotencyInProgress: an upload with the same key is still running.
var ErrIdempotencyInProgress = errors.New("an upload with this Idempotency-Key is in progress")

// idempotencyPrefix is where the attempts of a member's key live.
func idempotencyPrefix(p Principal, key string) string {
	sum := sha256.Sum256([]byte(p.Person + "\n" + key))
	return fmt.Sprintf("%s%s/%s/", idempotencyRoot, p.Agency, hex.EncodeToString(sum[:]))
}

// replay looks at the attempts under the upload's key. It returns the answer of the
// first attempt that registered its exhibit (nil if none did) and the number the next
// attempt takes. An attempt that was for another upload is an
// *IdempotencyMismatchError.
func (s *Service) replay(ctx context.Context, p Principal, u Upload, prefix string) (*api.UploadResult, int, error) {
	names, err := s.cfg.Store.List(ctx, prefix)
	if err != nil {
		return nil, 0, fmt.Errorf("listing the attempts of an idempotency key: %w", err)
	}
	if len(names) >= maxAttempts {
		return nil, 0, invalid("this Idempotency-Key was tried %d times: use a new one", len(names))
	}
	want := attemptOf("", u)
	for _, name := range names {
		b, err := readSmall(ctx, s.cfg.Store, name, 4<<10)
		if err != nil {
			return nil, 0, err
		}
		var a attempt
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, 0, fmt.Errorf("decoding %s: %w", name, err)
		}
		if a.SHA256 != want.SHA256 || a.CaseID != want.CaseID || a.Description != want.Description {
			return nil, 0, &IdempotencyMismatchError{EvidenceID: a.EvidenceID}
		}
		res, err := s.registered(ctx, p, a.EvidenceID)
		if err != nil || res != nil {
			return res, 0, err
		}
	}
	return nil, len(names) + 1, nil
}

// registered returns the upload answer of an exhibit whose register event is stored,
// with a fresh proof; nil if it has none.
func (s *Service) registered(ctx context.Context, p Principal, id string) (*api.UploadResult, error) {
	st, err := s.load(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := s.ledger.Prove(ctx, st.first)
	if err != nil {
		return nil, err
	}
	first := fold(&ledger.Chain{Records: []ledger.Record{rec}})
	return &api.UploadResult{Evidence: first.view(p, s.cfg.Now()), Custody: receipt(rec)}, nil
}

// newAttempt records the next attempt under the upload's key, for a new evidence id.
// Another attempt written meanwhile under the same number is ErrIdempotencyInProgress.
func (s *Service) newAttempt(ctx context.Context, prefix string, n int, u Upload, id string) error {
	a := attemptOf(id, u)
	a.Created = s.cfg.Now().UTC()
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = s.cfg.Store.Create(ctx, fmt.Sprintf("%s%04d.json", prefix, n), bytes.NewReader(b))
	if errors.Is(err, storage.ErrExists) {
		return ErrIdempotencyInProgress
	}
	return err
}

func attemptOf(id string, u Upload) attempt {
	return attempt{EvidenceID: id, SHA256: hex.EncodeToString(u.SHA256), CaseID: u.CaseID, Description: u.Description}
}
