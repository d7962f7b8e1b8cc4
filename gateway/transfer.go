package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// CipherName names the content encryption in custody records (docs/storage.md).
const CipherName = "tink-aes256-gcm-hkdf-sha256-1mib-segments"

// transferBuffer is the copy buffer of downloads.
const transferBuffer = 1 << 20

// contentName is the sealed content of an item, kept in its owner's jurisdiction.
func contentName(jurisdiction, id string) string {
	return storage.ContentName(jurisdiction, id, "sealed")
}

// dataKeyName is version n of an item's wrapped data key, kept beside its content; a
// key rotation writes the next version, never overwriting one.
func dataKeyName(jurisdiction, id string, n int) string {
	return storage.ContentName(jurisdiction, id, fmt.Sprintf("datakey/%08d.json", n))
}

// storedDataKey is the wrapped data key of an evidence item, kept beside its content.
type storedDataKey struct {
	KeyRef  string `json:"key_ref"`
	Wrapped []byte `json:"wrapped"`
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, p Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	caseID, desc := q.Get("case_id"), q.Get("description")
	if !custody.ValidCaseID(caseID) {
		return invalid("case_id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := checkText("description", desc, maxDescription, false); err != nil {
		return err
	}
	want, err := api.ParseDigest(r.Header.Get(api.HeaderContentDigest))
	if err != nil {
		return invalid("Content-Digest with a sha-256 member is required: %v", err)
	}
	id := NewEvidenceID()
	// The resource of a registration is the new item, owned by the caller's agency.
	newItem := policy.Evidence{ID: id, Owner: p.Agency, Jurisdiction: p.Jurisdiction}
	if d := s.Policy.Decide(policyPrincipal(p), policy.ActionRegister, newItem, s.Now()); !d.Allow {
		s.audit(ctx, p, policy.ActionRegister, id, d)
		return &denied{action: string(policy.ActionRegister), policies: d.Policies, reason: denialReason(policy.ActionRegister, d)}
	}
	body := http.MaxBytesReader(w, r.Body, s.Config.MaxUploadBytes)
	sealed, err := s.Sealer.Seal(ctx, contentName(p.Jurisdiction, id), p.Jurisdiction, []byte(id), want, body)
	if err != nil {
		return uploadError(err)
	}
	if err := s.putDataKey(ctx, p.Jurisdiction, id, 1, sealed.KeyRef, sealed.WrappedKey); err != nil {
		return err
	}
	tagKey := make([]byte, 32)
	rand.Read(tagKey)
	ev := custody.Event{EvidenceID: id, CaseID: caseID, Action: custody.ActionRegister, Actor: party(p),
		Exhibit: &custody.Exhibit{SHA256: sealed.PlainSHA256, Size: sealed.PlainSize, Description: desc, TagKey: hex.EncodeToString(tagKey)},
		Storage: storageFacts(sealed)}
	rec, err := s.Ledger.Append(ctx, nil, sealed.PlainSHA256, ev)
	if err != nil {
		return fmt.Errorf("registering %s: %w", id, err)
	}
	s.metrics.events.WithLabelValues(string(custody.ActionRegister)).Inc()
	s.metrics.bytesIn.Add(float64(sealed.PlainSize))
	st := fold(&ledger.Chain{Records: []ledger.Record{rec}})
	writeJSON(w, http.StatusCreated, api.UploadResult{Evidence: s.view(st, p), Custody: receipt(rec)})
	return nil
}

// uploadError classifies a failed upload: a short or oversized body is the client's.
func uploadError(err error) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, storage.ErrDigestMismatch), errors.As(err, &tooBig):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("the upload body ended before its Content-Length: nothing was stored")
	}
	return fmt.Errorf("sealing upload: %w", err)
}

func (s *Server) putDataKey(ctx context.Context, jurisdiction, id string, n int, keyRef string, wrapped []byte) error {
	b, err := json.Marshal(storedDataKey{KeyRef: keyRef, Wrapped: wrapped})
	if err != nil {
		return err
	}
	if _, err := s.Store.Create(ctx, dataKeyName(jurisdiction, id, n), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("storing data key of %s: %w", id, err)
	}
	return nil
}

func storageFacts(sealed storage.Sealed) *custody.StorageFacts {
	o := sealed.Object
	return &custody.StorageFacts{Location: o.Location, Version: o.Version, ETag: o.ETag,
		CiphertextSHA256: o.SHA256, CiphertextSize: o.Size, KeyRef: sealed.KeyRef, Cipher: CipherName}
}

// sealedOf rebuilds what the sealer needs to read an item from its register event and
// its newest wrapped data key.
func (s *Server) sealedOf(ctx context.Context, st *evidenceState) (storage.Sealed, error) {
	id, j := st.register.EvidenceID, st.register.Actor.Jurisdiction
	dk, _, err := latestDataKey(ctx, s.Store, j, id)
	if err != nil {
		return storage.Sealed{}, err
	}
	f := st.register.Storage
	return storage.Sealed{
		Object: storage.Info{Name: contentName(j, id), Size: f.CiphertextSize, SHA256: f.CiphertextSHA256,
			Version: f.Version, ETag: f.ETag, Location: f.Location},
		PlainSHA256: st.register.Exhibit.SHA256, PlainSize: st.register.Exhibit.Size,
		KeyRef: dk.KeyRef, WrappedKey: dk.Wrapped,
	}, nil
}

// download checks the stored ciphertext whole before it sends a byte, records the
// download, then streams the plaintext. Stored bytes that fail their digest or their
// authentication are recorded as an integrity-failure event and no plaintext is sent.
func (s *Server) download(w http.ResponseWriter, r *http.Request, p Principal) error {
	ctx := r.Context()
	id := mux.Vars(r)["id"]
	var sealed storage.Sealed
	var rc api.CustodyReceipt
	err := s.withChain(ctx, id, func() error {
		st, d, err := s.authorized(ctx, id, p, policy.ActionDownload)
		if err != nil {
			return err
		}
		if sealed, err = s.sealedOf(ctx, st); err != nil {
			return err
		}
		if err := s.Sealer.Verify(ctx, sealed); err != nil {
			if errors.Is(err, storage.ErrIntegrity) {
				s.integrityFailure(ctx, st, p, err)
			}
			return err
		}
		ev := custody.Event{Action: custody.ActionDownload, Actor: party(p), Storage: storageFacts(sealed)}
		if d.Grant != nil {
			if g := st.grantByID(d.Grant.ID); g != nil {
				ev.Grant, ev.LegalBasis = &g.Grant, g.LegalBasis
				ev.Counterparty = &custody.Party{Agency: st.owner(), Jurisdiction: st.register.Actor.Jurisdiction}
			}
		}
		rc, err = s.record(ctx, st, ev)
		return err
	})
	if err != nil {
		return err
	}
	plain, err := s.Sealer.Open(ctx, sealed, []byte(id))
	if err != nil {
		return err
	}
	defer plain.Close()
	sum, _ := hex.DecodeString(sealed.PlainSHA256)
	h := w.Header()
	h.Set("Content-Type", api.ContentMediaType)
	h.Set("Content-Length", strconv.FormatInt(sealed.PlainSize, 10))
	h.Set(api.HeaderReprDigest, api.FormatDigest(sum))
	setCustodyHeader(w, rc)
	n, err := io.CopyBuffer(w, plain, make([]byte, transferBuffer))
	s.metrics.bytesOut.Add(float64(n))
	if errors.Is(err, storage.ErrIntegrity) {
		// Altered between the check and the read: abort and record it.
		_ = s.withChain(context.WithoutCancel(ctx), id, func() error {
			chain, lerr := s.Ledger.Load(context.WithoutCancel(ctx), id)
			if lerr == nil {
				s.integrityFailure(context.WithoutCancel(ctx), fold(chain), p, err)
			}
			return lerr
		})
	}
	return err
}

// integrityFailure records that stored content failed its integrity check.
func (s *Server) integrityFailure(ctx context.Context, st *evidenceState, p Principal, cause error) {
	s.metrics.integrityFail.Inc()
	_, err := s.record(context.WithoutCancel(ctx), st, custody.Event{Action: custody.ActionIntegrityFailure,
		Actor: party(p), Storage: st.register.Storage, Detail: cause.Error()})
	if err != nil {
		s.Logger.ErrorContext(ctx, "recording integrity failure", "evidence_id", st.register.EvidenceID, "err", err)
	}
}
