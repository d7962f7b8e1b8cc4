package exhibit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// Resumable uploads (docs/api.md, "Resumable uploads"; docs/storage.md section 6).
//
// An upload session is begun with the evidence's case, description and length; its
// bytes then arrive in any number of writes, each continuing at the durable offset;
// once they are all there, FinishUpload checks the whole-file SHA-256 the client
// declares and registers the evidence as Register does. The content is sealed as it
// arrives, part by part (Config.UploadPartSegments segments of 1 MiB), each part stored
// in the store's upload in progress (storage.Uploader) and recorded, with the SHA-256
// states of plaintext and ciphertext after it, in a scratch record (storage.Scratch):
// a write cut anywhere loses at most the part it was in, and a restarted gateway
// continues the same ciphertext from the records. Nothing is an object, a data key or
// a custody event before FinishUpload; an abandoned session expires (ExpireUploads) and
// leaves nothing behind.

// Defaults of the upload sessions.
const (
	// DefaultUploadExpiry is how long a session may go unfinished when
	// Config.UploadExpiry is 0: long enough for a transfer of hundreds of GB over a
	// link that drops for a night.
	DefaultUploadExpiry = 72 * time.Hour
	// DefaultUploadPartSegments is Config.UploadPartSegments when 0: 16 segments of
	// 1 MiB, a part of S3's recommended size.
	DefaultUploadPartSegments = 16
	// maxUploadParts is S3's limit on the parts of an upload: longer uploads get
	// longer parts.
	maxUploadParts = 10000
	// maxUploadRecord bounds a session or part record read back.
	maxUploadRecord = 16 << 10
	// cleanupTimeout bounds the clean-up of a session after its request ended.
	cleanupTimeout = time.Minute
)

// Errors of the upload sessions.
var (
	// ErrUploadNotFound hides both an absent session and another member's.
	ErrUploadNotFound = errors.New("no such upload")
)

// Conflict kinds of the upload sessions.
const (
	// ConflictUploadOffset: a write that does not continue at the durable offset.
	ConflictUploadOffset = "upload-offset"
	// ConflictUploadIncomplete: a finish before every byte is durable.
	ConflictUploadIncomplete = "upload-incomplete"
)

// UploadStart begins a resumable upload. More fields may come (forensic metadata):
// it is a struct so that callers name what they set.
type UploadStart struct {
	CaseID      string
	Description string
	// Length is the evidence's exact length in bytes, declared before the first byte.
	Length int64
	// Acquisition, if set, is the forensic metadata its register event will record.
	Acquisition *custody.Acquisition
}

// UploadStatus is where an upload session stands.
type UploadStatus struct {
	UploadID string
	// Length is the declared length; Offset how many bytes of it are durable.
	Length int64
	Offset int64
	// Expires is when the session is removed if it is not finished.
	Expires time.Time
	// EvidenceID is set once the upload is registered.
	EvidenceID string
}

// uploadSession is a session's record (scratch, deleted with the session).
type uploadSession struct {
	UploadID    string `json:"upload_id"`
	EvidenceID  string `json:"evidence_id"`
	Agency      string `json:"agency"`
	Person      string `json:"person"`
	Role        string `json:"role"`
	CaseID      string `json:"case_id"`
	Description string `json:"description,omitempty"`
	// Acquisition is the forensic metadata given at the upload's creation.
	Acquisition *custody.Acquisition `json:"acquisition,omitempty"`
	Length      int64                `json:"length"`
	Segments    uint32               `json:"part_segments"`
	StoreUpload string               `json:"store_upload"`
	Sealing     storage.Sealing      `json:"sealing"`
	Created     time.Time            `json:"created"`
	Expires     time.Time            `json:"expires"`
}

// partRecord is the record of one durable part: the part as the store took it and the
// sealing state after it.
type partRecord struct {
	Part  storage.Part      `json:"part"`
	State storage.SealState `json:"state"`
}

// registeredRecord says which evidence a finished session registered.
type registeredRecord struct {
	EvidenceID string `json:"evidence_id"`
}

// uploadStores returns the store's upload and scratch sides.
func (s *Service) uploadStores() (storage.Uploader, storage.Scratch, error) {
	up, ok1 := s.cfg.Store.(storage.Uploader)
	sc, ok2 := s.cfg.Store.(storage.Scratch)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("resumable uploads: %w", errors.ErrUnsupported)
	}
	return up, sc, nil
}

func (s *Service) uploadExpiry() time.Duration {
	if s.cfg.UploadExpiry > 0 {
		return s.cfg.UploadExpiry
	}
	return DefaultUploadExpiry
}

// partSegments returns the segments per part of an upload of length bytes: the
// configured number, or more where the upload would take more than S3's 10000 parts.
func (s *Service) partSegments(length int64) uint32 {
	n := uint32(DefaultUploadPartSegments)
	if s.cfg.UploadPartSegments > 0 {
		n = s.cfg.UploadPartSegments
	}
	segs := length/(storage.DefaultSegmentSize-16) + 1
	if need := uint32((segs + maxUploadParts - 1) / maxUploadParts); need > n {
		n = need
	}
	return n
}

// StartUpload begins a resumable upload session for p. The policy is decided, the
// evidence id chosen, a data key made and the store's upload begun before a byte of
// content is sent. The session belongs to p's agency and person alone.
func (s *Service) StartUpload(ctx context.Context, p Principal, u UploadStart) (UploadStatus, error) {
	up, sc, err := s.uploadStores()
	if err != nil {
		return UploadStatus{}, err
	}
	if !custody.ValidCaseID(u.CaseID) {
		return UploadStatus{}, invalid("case_id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := checkText("description", u.Description, maxDescription, false); err != nil {
		return UploadStatus{}, err
	}
	if u.Length < 0 {
		return UploadStatus{}, invalid("the upload length must not be negative")
	}
	if err := checkAcquisition(u.Acquisition, s.cfg.Now()); err != nil {
		return UploadStatus{}, err
	}
	id := newEvidenceID()
	if err := s.decideRegister(ctx, p, id); err != nil {
		return UploadStatus{}, err
	}
	sg, err := s.sealer.BeginSealing(ctx, p.Jurisdiction, []byte(id))
	if err != nil {
		return UploadStatus{}, fmt.Errorf("starting an upload of %s: %w", id, err)
	}
	storeUpload, err := up.BeginUpload(ctx, contentName(p.Jurisdiction, id))
	if err != nil {
		return UploadStatus{}, fmt.Errorf("starting an upload of %s: %w", id, err)
	}
	now := s.cfg.Now().UTC()
	sess := uploadSession{UploadID: newUploadID(), EvidenceID: id, Agency: p.Agency, Person: p.Person, Role: p.Role,
		CaseID: u.CaseID, Description: u.Description, Acquisition: u.Acquisition, Length: u.Length, Segments: s.partSegments(u.Length),
		StoreUpload: storeUpload, Sealing: sg, Created: now, Expires: now.Add(s.uploadExpiry())}
	if err := putJSON(ctx, sc, sessionName(p.Jurisdiction, sess.UploadID), sess); err != nil {
		// Nothing refers to the store's upload: do not leave it.
		s.abortStoreUpload(ctx, p.Jurisdiction, sess)
		return UploadStatus{}, fmt.Errorf("starting an upload of %s: %w", id, err)
	}
	s.step(StepUploadStarted)
	s.metrics.uploadSessions.WithLabelValues("started").Inc()
	return UploadStatus{UploadID: sess.UploadID, Length: sess.Length, Expires: sess.Expires}, nil
}

// decideRegister decides whether p may register new evidence id.
func (s *Service) decideRegister(ctx context.Context, p Principal, id string) error {
	newItem := policy.Evidence{ID: id, Owner: p.Agency, Jurisdiction: p.Jurisdiction}
	if d := s.cfg.Policy.Decide(p.policy(), policy.ActionRegister, newItem, s.cfg.Now()); !d.Allow {
		s.audit(ctx, p, policy.ActionRegister, id, d)
		return &DeniedError{Action: string(policy.ActionRegister), Policies: d.Policies, Reason: denialReason(policy.ActionRegister, d)}
	}
	return nil
}

// session loads p's session uploadID, with the state after its last durable part.
// Another member's session, an expired one and a malformed id are ErrUploadNotFound.
func (s *Service) session(ctx context.Context, p Principal, uploadID string) (uploadSession, partRecord, error) {
	_, sc, err := s.uploadStores()
	if err != nil {
		return uploadSession{}, partRecord{}, err
	}
	if !validUploadID(uploadID) {
		return uploadSession{}, partRecord{}, ErrUploadNotFound
	}
	var sess uploadSession
	err = getJSON(ctx, sc, sessionName(p.Jurisdiction, uploadID), &sess)
	if errors.Is(err, storage.ErrNotFound) {
		return uploadSession{}, partRecord{}, ErrUploadNotFound
	}
	if err != nil {
		return uploadSession{}, partRecord{}, err
	}
	if sess.UploadID != uploadID || sess.Agency != p.Agency || sess.Person != p.Person || !s.cfg.Now().Before(sess.Expires) {
		return uploadSession{}, partRecord{}, ErrUploadNotFound
	}
	last, err := s.lastPart(ctx, sc, p.Jurisdiction, uploadID)
	if err != nil || last.State.Final {
		return sess, last, err
	}
	// A registered upload's part records are deleted: every byte of it is stored.
	err = getJSON(ctx, sc, registeredName(p.Jurisdiction, uploadID), &registeredRecord{})
	if err == nil {
		return sess, partRecord{State: storage.SealState{PlainSize: sess.Length, Final: true}}, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		err = nil
	}
	return sess, last, err
}

// lastPart returns the record of the last durable part (the zero record if none).
func (s *Service) lastPart(ctx context.Context, sc storage.Scratch, j, uploadID string) (partRecord, error) {
	names, err := sc.ListRecords(ctx, partsPrefix(j, uploadID))
	if err != nil || len(names) == 0 {
		return partRecord{}, err
	}
	var rec partRecord
	if err := getJSON(ctx, sc, names[len(names)-1], &rec); err != nil {
		return partRecord{}, err
	}
	if want := partName(j, uploadID, rec.Part.Number); names[len(names)-1] != want || len(names) != rec.Part.Number {
		return partRecord{}, fmt.Errorf("upload %s: part records do not run 1 to %d", uploadID, len(names))
	}
	return rec, nil
}

// UploadStatus returns where p's upload session stands.
func (s *Service) UploadStatus(ctx context.Context, p Principal, uploadID string) (UploadStatus, error) {
	sess, last, err := s.session(ctx, p, uploadID)
	if err != nil {
		return UploadStatus{}, err
	}
	st := UploadStatus{UploadID: uploadID, Length: sess.Length, Offset: last.State.PlainSize, Expires: sess.Expires}
	_, sc, _ := s.uploadStores()
	var reg registeredRecord
	if err := getJSON(ctx, sc, registeredName(p.Jurisdiction, uploadID), &reg); err == nil {
		st.EvidenceID = reg.EvidenceID
	} else if !errors.Is(err, storage.ErrNotFound) {
		return UploadStatus{}, err
	}
	return st, nil
}

// WriteUpload seals and stores bytes of p's upload from src, which continues the
// upload at offset: the durable offset, or the write is a *ConflictError. It reads src
// part by part and returns the status once src ends: Offset is the end of the last
// durable part, which is where the next write continues (bytes of a part src ended
// inside of are not kept and must be sent again). A failure of src is returned after
// the parts before it are recorded.
func (s *Service) WriteUpload(ctx context.Context, p Principal, uploadID string, offset int64, src io.Reader) (UploadStatus, error) {
	unlock := s.locks.lock("upload/" + uploadID)
	defer unlock()
	sess, last, err := s.session(ctx, p, uploadID)
	if err != nil {
		return UploadStatus{}, err
	}
	status := UploadStatus{UploadID: uploadID, Length: sess.Length, Offset: last.State.PlainSize, Expires: sess.Expires}
	if offset != last.State.PlainSize {
		return status, &ConflictError{Kind: ConflictUploadOffset,
			Msg: fmt.Sprintf("the upload continues at byte %d, not %d", last.State.PlainSize, offset)}
	}
	if last.State.Final {
		return status, nil
	}
	ps, err := s.sealer.ResumeSealing(ctx, sess.Sealing, []byte(sess.EvidenceID))
	if err != nil {
		return status, fmt.Errorf("continuing upload %s: %w", uploadID, err)
	}
	w := &partWriter{s: s, p: p, sess: sess, ps: ps, last: last}
	err = w.run(ctx, src)
	status.Offset = w.last.State.PlainSize
	s.metrics.bytesIn.Add(float64(status.Offset - offset))
	return status, err
}

// CancelUpload ends p's upload session: the store's upload is aborted and the records
// deleted. Nothing of it remains.
func (s *Service) CancelUpload(ctx context.Context, p Principal, uploadID string) error {
	unlock := s.locks.lock("upload/" + uploadID)
	defer unlock()
	sess, _, err := s.session(ctx, p, uploadID)
	if err != nil {
		return err
	}
	_, sc, _ := s.uploadStores()
	// A registered upload's session is only forgotten: its evidence stays.
	err = getJSON(ctx, sc, registeredName(p.Jurisdiction, uploadID), &registeredRecord{})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := s.removeSession(ctx, p.Jurisdiction, sess, err != nil); err != nil {
		return err
	}
	s.metrics.uploadSessions.WithLabelValues("cancelled").Inc()
	return nil
}

// removeSession aborts the store's upload (if abort) and deletes the session's
// records, the session record last, so an interrupted removal is found again.
func (s *Service) removeSession(ctx context.Context, j string, sess uploadSession, abort bool) error {
	up, sc, err := s.uploadStores()
	if err != nil {
		return err
	}
	if abort {
		if err := up.AbortUpload(ctx, contentName(j, sess.EvidenceID), sess.StoreUpload); err != nil {
			return fmt.Errorf("removing upload %s: %w", sess.UploadID, err)
		}
	}
	names, err := sc.ListRecords(ctx, uploadRecords(j, sess.UploadID))
	if err != nil {
		return fmt.Errorf("removing upload %s: %w", sess.UploadID, err)
	}
	session := sessionName(j, sess.UploadID)
	for _, name := range names {
		if name == session {
			continue
		}
		if err := sc.DeleteRecord(ctx, name); err != nil {
			return fmt.Errorf("removing upload %s: %w", sess.UploadID, err)
		}
	}
	if err := sc.DeleteRecord(ctx, session); err != nil {
		return fmt.Errorf("removing upload %s: %w", sess.UploadID, err)
	}
	return nil
}

// abortStoreUpload aborts a store upload nothing refers to, on a context the request's
// end does not cancel; a failure is logged.
func (s *Service) abortStoreUpload(ctx context.Context, j string, sess uploadSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	up, _, err := s.uploadStores()
	if err == nil {
		err = up.AbortUpload(ctx, contentName(j, sess.EvidenceID), sess.StoreUpload)
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "aborting an upload in progress failed", "upload_id", sess.UploadID, "err", err)
	}
}

func putJSON(ctx context.Context, sc storage.Scratch, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return sc.PutRecord(ctx, name, b)
}

func getJSON(ctx context.Context, sc storage.Scratch, name string, v any) error {
	b, err := sc.GetRecord(ctx, name)
	if err != nil {
		return err
	}
	if len(b) > maxUploadRecord {
		return fmt.Errorf("record %s has %d bytes, more than %d", name, len(b), maxUploadRecord)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", name, err)
	}
	return nil
}
