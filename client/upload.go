package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// Progress phases reported to a ProgressFunc.
const (
	PhaseHashing     = "hashing"
	PhaseUploading   = "uploading"
	PhaseDownloading = "downloading"
)

// chunkSize is the read size of the hashing pass.
const chunkSize = 1 << 20

// UploadRequest describes an upload.
type UploadRequest struct {
	CaseID      string
	Description string
	// Content is read twice from its start: once to hash it, once to send it. It
	// must not change in between (the upload then fails).
	Content io.ReadSeeker
	// Progress, if set, follows the hashing and the sending.
	Progress ProgressFunc
	// IdempotencyKey, if set, is sent as the Idempotency-Key header: an upload retried
	// with the same key answers with the first upload's exhibit (docs/api.md).
	IdempotencyKey string
	// Acquisition, if set, is the forensic metadata sent with the upload (docs/api.md,
	// "Forensic metadata").
	Acquisition *custody.Acquisition
}

// ErrContentChanged is returned when the content read while sending differs from the
// content hashed before.
var ErrContentChanged = errors.New("the content changed while it was being uploaded")

// Upload registers evidence for a case. It hashes the content in a first pass, then
// streams it with its length and RFC 9530 Content-Digest, so the gateway can refuse
// bytes that differ from what the client read. The content is never held in memory.
func (c *Client) Upload(ctx context.Context, req UploadRequest) (*api.UploadResult, error) {
	if !custody.ValidCaseID(req.CaseID) {
		return nil, fmt.Errorf("uploading evidence: %q is not a valid case id (1 to 64 letters, digits, '.', '_' or '-')", req.CaseID)
	}
	size, err := req.Content.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("uploading evidence: finding the content size: %w", err)
	}
	if _, err := req.Content.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("uploading evidence: rewinding the content: %w", err)
	}
	sum, err := hashContent(ctx, req.Content, size, req.Progress)
	if err != nil {
		return nil, fmt.Errorf("uploading evidence: hashing the content: %w", err)
	}
	if _, err := req.Content.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("uploading evidence: rewinding the content: %w", err)
	}
	act, err := c.actHeader(ctx, "", hex.EncodeToString(sum), custody.Act{Action: custody.ActionRegister, CaseID: req.CaseID,
		Description: req.Description, Acquisition: api.AcquisitionAsSent(req.Acquisition)})
	if err != nil {
		return nil, fmt.Errorf("uploading evidence: %w", err)
	}
	q := url.Values{"case_id": {req.CaseID}}
	if req.Description != "" {
		q.Set("description", req.Description)
	}
	api.SetAcquisitionQuery(q, req.Acquisition)
	newBody := func() *sendReader {
		return &sendReader{r: io.LimitReader(req.Content, size), size: size, want: sum,
			h: sha256.New(), progress: req.Progress}
	}
	body := newBody()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/v1/evidence", q), body)
	if err != nil {
		return nil, fmt.Errorf("uploading evidence: %w", err)
	}
	hreq.ContentLength = size
	if size == 0 {
		hreq.Body = http.NoBody
	}
	// A retry (the gateway busy, or a lost connection with an idempotency key) sends
	// the content again from its start.
	hreq.GetBody = func() (io.ReadCloser, error) {
		if size == 0 {
			return http.NoBody, nil
		}
		if _, err := req.Content.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		body = newBody()
		return io.NopCloser(body), nil
	}
	hreq.Header[api.HeaderCustodyAct] = act[api.HeaderCustodyAct]
	hreq.Header.Set("Content-Type", api.ContentMediaType)
	hreq.Header.Set(api.HeaderContentDigest, api.FormatDigest(sum))
	hreq.Header.Set("Accept", api.JSONMediaType)
	hreq.Header.Set("Expect", "100-continue")
	if req.IdempotencyKey != "" {
		hreq.Header.Set(api.HeaderIdempotencyKey, api.FormatIdempotencyKey(req.IdempotencyKey))
	}
	body.report(0)
	resp, err := c.send(hreq, http.StatusCreated)
	if body.changed {
		return nil, fmt.Errorf("uploading evidence: %w", ErrContentChanged)
	}
	if err != nil {
		return nil, fmt.Errorf("uploading evidence: %w", err)
	}
	defer resp.Body.Close()
	var r api.UploadResult
	if err := decodeJSON(resp, "POST /v1/evidence", &r); err != nil {
		return nil, fmt.Errorf("uploading evidence: %w", err)
	}
	if got := hex.EncodeToString(sum); r.Evidence.SHA256 != got {
		return nil, fmt.Errorf("uploading evidence: the gateway registered SHA-256 %s, the content sent has %s", r.Evidence.SHA256, got)
	}
	return &r, nil
}

// hashContent returns the SHA-256 of the first size bytes of r, reporting progress.
func hashContent(ctx context.Context, r io.Reader, size int64, progress ProgressFunc) ([]byte, error) {
	h := sha256.New()
	buf := make([]byte, chunkSize)
	var done int64
	if progress != nil {
		progress(PhaseHashing, 0, size)
	}
	for done < size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), size-done)])
		h.Write(buf[:n])
		done += int64(n)
		if progress != nil {
			progress(PhaseHashing, done, size)
		}
		if err != nil {
			return nil, fmt.Errorf("read %d of %d bytes: %w", done, size, err)
		}
	}
	return h.Sum(nil), nil
}

// sendReader is an upload body: it reports progress and hashes what it sends, and
// fails the request if the bytes differ from those hashed before.
type sendReader struct {
	r        io.Reader
	size     int64
	sent     int64
	want     []byte
	h        hash.Hash
	progress ProgressFunc
	changed  bool
}

func (s *sendReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.sent += int64(n)
	if n > 0 {
		s.report(s.sent)
	}
	switch {
	case s.sent == s.size && n > 0 && !bytes.Equal(s.h.Sum(nil), s.want):
		s.changed = true
		return n, ErrContentChanged
	case err == io.EOF && s.sent < s.size:
		s.changed = true
		return n, ErrContentChanged
	}
	return n, err
}

func (s *sendReader) report(done int64) {
	if s.progress != nil {
		s.progress(PhaseUploading, done, s.size)
	}
}
