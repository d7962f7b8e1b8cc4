package exhibit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/storage"
)

// partReaders bounds the part records FinishUpload reads at once.
const partReaders = 16

// FinishUpload registers p's complete upload as evidence. wantSHA256 is the 32-byte
// SHA-256 the client declares for the whole file; the gateway hashed every byte as it
// sealed it, and nothing is registered unless the two agree: on a difference the
// session is removed, with its parts, and the error wraps ErrDigestMismatch. Then the
// parts are published as the sealed content (no copy), its data key stored and its
// register event recorded, as Register does. Finishing again a session that
// registered its evidence answers with that evidence (the first answer may have been
// lost).
func (s *Service) FinishUpload(ctx context.Context, p Principal, uploadID string, wantSHA256 []byte) (api.UploadResult, error) {
	if len(wantSHA256) != sha256.Size {
		return api.UploadResult{}, invalid("the declared SHA-256 must be %d bytes", sha256.Size)
	}
	unlock := s.locks.lock("upload/" + uploadID)
	defer unlock()
	sess, last, err := s.session(ctx, p, uploadID)
	if err != nil {
		return api.UploadResult{}, err
	}
	want := hex.EncodeToString(wantSHA256)
	if res, err := s.finishedBefore(ctx, p, sess, want); res != nil || err != nil {
		return derefResult(res), err
	}
	if !last.State.Final && sess.Length == 0 {
		// An empty upload has no write (tus finishes it at creation): seal its one
		// empty segment now.
		if last, err = s.sealEmpty(ctx, p, sess, last); err != nil {
			return api.UploadResult{}, err
		}
	}
	if !last.State.Final {
		return api.UploadResult{}, &ConflictError{Kind: ConflictUploadIncomplete,
			Msg: fmt.Sprintf("%d of the %d bytes of the upload are stored: send the rest first", last.State.PlainSize, sess.Length)}
	}
	got, err := last.State.PlainSHA256()
	if err != nil {
		return api.UploadResult{}, fmt.Errorf("finishing upload %s: %w", uploadID, err)
	}
	if got != want {
		if err := s.removeSession(ctx, p.Jurisdiction, sess, true); err != nil {
			s.cfg.Logger.WarnContext(ctx, "removing an upload whose digest differs failed", "upload_id", uploadID, "err", err)
		}
		s.metrics.uploadSessions.WithLabelValues("digest-mismatch").Inc()
		return api.UploadResult{}, fmt.Errorf("upload %s: received sha256 %s, declared %s: %w", uploadID, got, want, ErrDigestMismatch)
	}
	if err := s.decideRegister(ctx, p, sess.EvidenceID); err != nil {
		return api.UploadResult{}, err
	}
	act, err := s.checkAct(p, nil, custody.Event{EvidenceID: sess.EvidenceID, CaseID: sess.CaseID, Action: custody.ActionRegister,
		Actor: p.party(), Exhibit: &custody.Exhibit{SHA256: want, Description: sess.Description,
			Acquisition: acquisitionFact(sess.Acquisition)}}, want)
	if err != nil {
		return api.UploadResult{}, err
	}
	// A finish that stopped after storing the register event (the log failing, the
	// process stopping) left an event that loading the exhibit publishes.
	if res, err := s.registered(ctx, p, sess.EvidenceID); err != nil || res != nil {
		if res != nil {
			s.forgetParts(ctx, p, sess)
		}
		return derefResult(res), err
	}
	sealed, err := s.publish(ctx, p, sess, last)
	if err != nil {
		return api.UploadResult{}, err
	}
	s.step(StepUploadCompleted)
	res, err := s.registerSealed(ctx, p, registration{id: sess.EvidenceID, caseID: sess.CaseID, description: sess.Description, sealed: sealed, act: act,
		acquisition: sess.Acquisition})
	if err != nil {
		return api.UploadResult{}, err
	}
	s.forgetParts(ctx, p, sess)
	s.metrics.uploadSessions.WithLabelValues("registered").Inc()
	return res, nil
}

// sealEmpty writes the one empty final segment of an empty upload.
func (s *Service) sealEmpty(ctx context.Context, p Principal, sess uploadSession, last partRecord) (partRecord, error) {
	ps, err := s.sealer.ResumeSealing(ctx, sess.Sealing, []byte(sess.EvidenceID))
	if err != nil {
		return last, fmt.Errorf("finishing upload %s: %w", sess.UploadID, err)
	}
	w := &partWriter{s: s, p: p, sess: sess, ps: ps, last: last}
	if err := w.run(ctx, bytes.NewReader(nil)); err != nil {
		return last, err
	}
	return w.last, nil
}

func derefResult(r *api.UploadResult) api.UploadResult {
	if r == nil {
		return api.UploadResult{}
	}
	return *r
}

// finishedBefore answers a finish of a session that registered its evidence already:
// its result, or ErrDigestMismatch if the digest declared now is another.
func (s *Service) finishedBefore(ctx context.Context, p Principal, sess uploadSession, want string) (*api.UploadResult, error) {
	_, sc, _ := s.uploadStores()
	var reg registeredRecord
	err := getJSON(ctx, sc, registeredName(p.Jurisdiction, sess.UploadID), &reg)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	res, err := s.registered(ctx, p, reg.EvidenceID)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, fmt.Errorf("upload %s: registered evidence %s has no register event", sess.UploadID, reg.EvidenceID)
	}
	if res.Evidence.SHA256 != want {
		return nil, fmt.Errorf("upload %s was registered with sha256 %s, declared now %s: %w", sess.UploadID, res.Evidence.SHA256, want, ErrDigestMismatch)
	}
	return res, nil
}

// publish completes the store's upload into the sealed content and returns its
// record. A completion that finds the upload gone or the name taken (a retry after a
// completion whose answer was lost) checks the stored object against the ciphertext
// digest of the records before it goes on.
func (s *Service) publish(ctx context.Context, p Principal, sess uploadSession, last partRecord) (storage.Sealed, error) {
	up, sc, _ := s.uploadStores()
	parts, err := s.readParts(ctx, sc, p.Jurisdiction, sess.UploadID, last.Part.Number)
	if err != nil {
		return storage.Sealed{}, err
	}
	name := contentName(p.Jurisdiction, sess.EvidenceID)
	info, err := up.CompleteUpload(ctx, name, sess.StoreUpload, parts)
	if errors.Is(err, storage.ErrUploadNotFound) || errors.Is(err, storage.ErrExists) {
		return s.publishedBefore(ctx, sess, last, name, err)
	}
	if err != nil {
		return storage.Sealed{}, fmt.Errorf("publishing upload %s: %w", sess.UploadID, err)
	}
	return storage.SealedParts(sess.Sealing, last.State, info)
}

// publishedBefore checks that the object under name is the sealed content of the
// session's parts.
func (s *Service) publishedBefore(ctx context.Context, sess uploadSession, last partRecord, name string, cause error) (storage.Sealed, error) {
	rc, info, err := s.cfg.Store.Open(ctx, name, "")
	if err != nil {
		return storage.Sealed{}, fmt.Errorf("publishing upload %s: %w (and the object: %w)", sess.UploadID, cause, err)
	}
	rc.Close()
	sealed, err := storage.SealedParts(sess.Sealing, last.State, info)
	if err == nil {
		err = s.sealer.Verify(ctx, sealed)
	}
	if err != nil {
		return storage.Sealed{}, fmt.Errorf("publishing upload %s: %w, and the stored object is not its content: %w", sess.UploadID, cause, err)
	}
	return sealed, nil
}

// readParts reads the records of parts 1 to n.
func (s *Service) readParts(ctx context.Context, sc storage.Scratch, j, uploadID string, n int) ([]storage.Part, error) {
	parts := make([]storage.Part, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(partReaders)
	for i := range n {
		g.Go(func() error {
			var rec partRecord
			if err := getJSON(gctx, sc, partName(j, uploadID, i+1), &rec); err != nil {
				return fmt.Errorf("reading part %d of upload %s: %w", i+1, uploadID, err)
			}
			parts[i] = rec.Part
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if _, err := storage.CheckParts(parts); err != nil {
		return nil, fmt.Errorf("upload %s: %w", uploadID, err)
	}
	return parts, nil
}

// forgetParts records which evidence the session registered and deletes its part
// records; the session stays until it expires, to answer a repeated finish. A failure
// is only logged: ExpireUploads removes what is left.
func (s *Service) forgetParts(ctx context.Context, p Principal, sess uploadSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, sc, _ := s.uploadStores()
	err := putJSON(ctx, sc, registeredName(p.Jurisdiction, sess.UploadID), registeredRecord{EvidenceID: sess.EvidenceID})
	if err == nil {
		var names []string
		names, err = sc.ListRecords(ctx, partsPrefix(p.Jurisdiction, sess.UploadID))
		for _, name := range names {
			if err = sc.DeleteRecord(ctx, name); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "forgetting the parts of a registered upload failed", "upload_id", sess.UploadID, "err", err)
	}
}

// UploadExpiryReport is what ExpireUploads removed.
type UploadExpiryReport struct {
	// Expired are the sessions removed unfinished, with their parts.
	Expired []string
	// Forgotten are the finished sessions whose records were removed.
	Forgotten []string
}

// ExpireUploads removes the upload sessions past their expiry: an unfinished one with
// its store upload and every record (nothing of it remains: no object, data key or
// event), a finished one with its records (its evidence stays). The gateway runs it
// at start and then periodically.
func (s *Service) ExpireUploads(ctx context.Context) (UploadExpiryReport, error) {
	var r UploadExpiryReport
	_, sc, err := s.uploadStores()
	if err != nil {
		return r, err
	}
	now := s.cfg.Now()
	for _, j := range s.jurisdictions() {
		names, err := sc.ListRecords(ctx, uploadsOf(j))
		if err != nil {
			return r, fmt.Errorf("listing the uploads of %s: %w", j, err)
		}
		for _, name := range names {
			if !isSessionName(j, name) {
				continue
			}
			var sess uploadSession
			if err := getJSON(ctx, sc, name, &sess); err != nil {
				return r, err
			}
			if now.Before(sess.Expires) {
				continue
			}
			err := getJSON(ctx, sc, registeredName(j, sess.UploadID), &registeredRecord{})
			finished := err == nil
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return r, err
			}
			if err := s.removeSession(ctx, j, sess, !finished); err != nil {
				return r, err
			}
			if finished {
				r.Forgotten = append(r.Forgotten, sess.UploadID)
				continue
			}
			r.Expired = append(r.Expired, sess.UploadID)
			s.metrics.uploadSessions.WithLabelValues("expired").Inc()
			s.cfg.Logger.InfoContext(ctx, "upload expired unfinished and removed", "upload_id", sess.UploadID,
				"agency", sess.Agency, "expired", sess.Expires.Format(time.RFC3339))
		}
	}
	return r, nil
}

func isSessionName(j, name string) bool {
	rest, ok := strings.CutPrefix(name, uploadsOf(j))
	if !ok {
		return false
	}
	id, file, ok := strings.Cut(rest, "/")
	return ok && file == "session.json" && validUploadID(id)
}
