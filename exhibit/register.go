package exhibit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// CipherName names the content encryption in custody records (docs/storage.md).
const CipherName = "tink-aes256-gcm-hkdf-sha256-1mib-segments"

// Upload is new evidence to register.
type Upload struct {
	CaseID      string
	Description string
	// SHA256 is the 32-byte digest the client declared for Content.
	SHA256 []byte
	// Content is read once, to its end; nothing is stored unless it hashes to SHA256.
	Content io.Reader
	// IdempotencyKey, if set, makes a retry of this upload answer with the first
	// upload's result instead of registering a second exhibit (idempotency.go).
	IdempotencyKey string
	// Acquisition, if set, is the forensic metadata recorded in the register event
	// (forensic.go).
	Acquisition *custody.Acquisition
}

// Register seals and stores new evidence for a case and records its register event.
// It decides the policy before it reads a byte of content. If the content does not
// hash to the declared digest the error wraps storage.ErrDigestMismatch and nothing
// is stored; if reading it fails, the error wraps the reader's.
func (s *Service) Register(ctx context.Context, p Principal, u Upload) (api.UploadResult, error) {
	if !custody.ValidCaseID(u.CaseID) {
		return api.UploadResult{}, invalid("case_id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := checkText("description", u.Description, maxDescription, false); err != nil {
		return api.UploadResult{}, err
	}
	if len(u.IdempotencyKey) > maxIdempotencyKey {
		return api.UploadResult{}, invalid("Idempotency-Key is longer than %d bytes", maxIdempotencyKey)
	}
	if err := checkAcquisition(u.Acquisition, s.cfg.Now()); err != nil {
		return api.UploadResult{}, err
	}
	id := newEvidenceID()
	// The resource of a registration is the new item, owned by the caller's agency.
	newItem := policy.Evidence{ID: id, Owner: p.Agency, Jurisdiction: p.Jurisdiction}
	if d := s.cfg.Policy.Decide(p.policy(), policy.ActionRegister, newItem, s.cfg.Now()); !d.Allow {
		s.audit(ctx, p, policy.ActionRegister, id, d)
		return api.UploadResult{}, &DeniedError{Action: string(policy.ActionRegister), Policies: d.Policies, Reason: denialReason(policy.ActionRegister, d)}
	}
	sha := hex.EncodeToString(u.SHA256)
	act, err := s.checkAct(p, nil, custody.Event{EvidenceID: id, CaseID: u.CaseID, Action: custody.ActionRegister, Actor: p.party(),
		Exhibit: &custody.Exhibit{SHA256: sha, Description: u.Description, Acquisition: acquisitionFact(u.Acquisition)}}, sha)
	if err != nil {
		return api.UploadResult{}, err
	}
	if u.IdempotencyKey != "" {
		prefix := idempotencyPrefix(p, u.IdempotencyKey)
		unlock := s.locks.lock(prefix)
		defer unlock()
		res, n, err := s.replay(ctx, p, u, prefix)
		if err != nil || res != nil {
			if res != nil {
				return *res, nil
			}
			return api.UploadResult{}, err
		}
		if err := s.newAttempt(ctx, prefix, n, u, id); err != nil {
			return api.UploadResult{}, err
		}
	}
	sealed, err := s.sealer.Seal(ctx, contentName(p.Jurisdiction, id), p.Jurisdiction, []byte(id), u.SHA256, endedEarly{u.Content})
	if err != nil {
		return api.UploadResult{}, fmt.Errorf("sealing the content of %s: %w", id, err)
	}
	s.metrics.bytesIn.Add(float64(sealed.PlainSize))
	s.step(StepSealed)
	return s.registerSealed(ctx, p, registration{id: id, caseID: u.CaseID, description: u.Description, sealed: sealed, act: act,
		acquisition: u.Acquisition})
}

// registration is sealed content to register: the exhibit's facts of the register
// event. A struct, so that more facts can come.
type registration struct {
	id          string
	caseID      string
	description string
	sealed      storage.Sealed
	// act is the member's signed act that asks for the registration.
	act *custody.SignedAct
	// acquisition is the forensic metadata the member gave, if any.
	acquisition *custody.Acquisition
}

// registerSealed stores the data key of sealed content and records its register event:
// the steps after the content is stored, shared by Register and FinishUpload.
func (s *Service) registerSealed(ctx context.Context, p Principal, r registration) (api.UploadResult, error) {
	sealed := r.sealed
	if err := s.putDataKey(ctx, p.Jurisdiction, r.id, 1, dataKey{KeyRef: sealed.KeyRef, Wrapped: sealed.WrappedKey}); err != nil {
		return api.UploadResult{}, err
	}
	s.step(StepDataKeyStored)
	until := s.cfg.Now().Add(s.cfg.Retention.period(r.caseID)).UTC()
	if err := s.retain(ctx, until, contentName(p.Jurisdiction, r.id), dataKeyName(p.Jurisdiction, r.id, 1)); err != nil {
		return api.UploadResult{}, err
	}
	tagKey := make([]byte, 32)
	rand.Read(tagKey)
	ev := custody.Event{EvidenceID: r.id, CaseID: r.caseID, Action: custody.ActionRegister, Actor: p.party(),
		Exhibit: &custody.Exhibit{SHA256: sealed.PlainSHA256, Size: sealed.PlainSize, Description: r.description, TagKey: hex.EncodeToString(tagKey),
			Acquisition: acquisitionFact(r.acquisition)},
		Storage: storageFacts(sealed), RetainUntil: &until, Act: r.act}
	rec, err := s.appendEvent(ctx, nil, sealed.PlainSHA256, ev)
	if err != nil {
		return api.UploadResult{}, fmt.Errorf("registering %s: %w", r.id, err)
	}
	st := fold(&ledger.Chain{Records: []ledger.Record{rec}})
	return api.UploadResult{Evidence: st.view(p, s.cfg.Now()), Custody: receipt(rec)}, nil
}

// endedEarly wraps the content's own io.ErrUnexpectedEOF (an HTTP body shorter than
// its Content-Length): the sealer reads with io.ReadFull, which takes that exact value
// for the short last read of a complete stream, so the truncation would surface as a
// digest mismatch instead of the reader's error.
type endedEarly struct{ r io.Reader }

func (e endedEarly) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("content ended early: %w", err)
	}
	return n, err
}

func storageFacts(sealed storage.Sealed) *custody.StorageFacts {
	o := sealed.Object
	return &custody.StorageFacts{Location: o.Location, Version: o.Version, ETag: o.ETag,
		CiphertextSHA256: o.SHA256, CiphertextSize: o.Size, KeyRef: sealed.KeyRef, Cipher: CipherName}
}
