package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/evidencegw/evidencegw/api"
)

// ContentResponse is an open content stream (GET /v1/evidence/{id}/content). The
// caller must close Body and must not trust the bytes before checking them against
// ReprDigest and the registered digest (Download does both).
type ContentResponse struct {
	Body io.ReadCloser
	// Size is the announced Content-Length, -1 if none.
	Size int64
	// ReprDigest is the SHA-256 the gateway announced in Repr-Digest.
	ReprDigest []byte
	// Custody is the download event the gateway recorded, if it sent it.
	Custody *api.CustodyReceipt
}

// Content opens the content stream of an evidence item. The gateway records a
// download event when it starts the stream.
func (c *Client) Content(ctx context.Context, evidenceID string) (*ContentResponse, error) {
	path, err := evidencePath(evidenceID, "/content")
	if err != nil {
		return nil, err
	}
	op := "GET " + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path, nil), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", api.ContentMediaType)
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	cr := &ContentResponse{Body: resp.Body, Size: resp.ContentLength}
	if cr.ReprDigest, err = api.ParseDigest(resp.Header.Values(api.HeaderReprDigest)...); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: Repr-Digest header: %w", op, err)
	}
	if cr.Custody, err = custodyHeader(resp); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return cr, nil
}

// IntegrityError reports evidence bytes that do not match their digests. Whatever was
// received has been discarded.
type IntegrityError struct {
	EvidenceID string
	// Registered is the hex SHA-256 the evidence was registered with.
	Registered string
	// Announced is the hex SHA-256 of the download's Repr-Digest header.
	Announced string
	// Received is the hex SHA-256 of the bytes received; empty if the check failed
	// before any byte was written.
	Received string
}

func (e *IntegrityError) Error() string {
	if e.Received == "" {
		return fmt.Sprintf("INTEGRITY FAILURE: evidence %s was registered with SHA-256 %s but the gateway announces %s; nothing was written",
			e.EvidenceID, e.Registered, e.Announced)
	}
	return fmt.Sprintf("INTEGRITY FAILURE: evidence %s: the bytes received have SHA-256 %s, the gateway announced %s and the evidence was registered with %s; the download was discarded",
		e.EvidenceID, e.Received, e.Announced, e.Registered)
}

// DownloadResult is a completed, verified download.
type DownloadResult struct {
	Evidence api.EvidenceView
	Path     string
	// SHA256 is the hex SHA-256 of the file written, equal to the registered one.
	SHA256  string
	Size    int64
	Custody *api.CustodyReceipt
	// Received is the received event that records the member's signed receipt of
	// what the download delivered.
	Received *api.CustodyReceipt
}

// Download fetches an evidence item's content into the file at path, which must not
// exist. It writes to a temporary file next to path, hashing as it writes, and renames
// it into place only if the bytes match both the Repr-Digest the gateway announced and
// the digest the evidence was registered with. On any failure the temporary file is
// removed and nothing is left at path; a digest mismatch is an *IntegrityError. Once
// the file is in place, it sends the member's signed receipt of what it received
// (Received); if that fails, it returns the result with a *ReceiptError.
func (c *Client) Download(ctx context.Context, evidenceID, path string, progress ProgressFunc) (*DownloadResult, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("downloading %s: %s already exists", evidenceID, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("downloading %s: %w", evidenceID, err)
	}
	ev, err := c.Evidence(ctx, evidenceID)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", evidenceID, err)
	}
	registered, err := hex.DecodeString(ev.SHA256)
	if err != nil || len(registered) != sha256.Size {
		return nil, fmt.Errorf("downloading %s: the gateway reports an invalid registered SHA-256 %q", evidenceID, ev.SHA256)
	}
	content, err := c.Content(ctx, evidenceID)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", evidenceID, err)
	}
	defer content.Body.Close()
	if !bytes.Equal(content.ReprDigest, registered) {
		return nil, &IntegrityError{EvidenceID: evidenceID, Registered: ev.SHA256, Announced: hex.EncodeToString(content.ReprDigest)}
	}
	size := content.Size
	if size < 0 {
		size = ev.Size
	}
	sum, n, err := writeVerified(ctx, path, content.Body, size, registered, progress)
	if err != nil {
		var ie *IntegrityError
		if errors.As(err, &ie) {
			ie.EvidenceID, ie.Registered, ie.Announced = evidenceID, ev.SHA256, hex.EncodeToString(content.ReprDigest)
			return nil, ie
		}
		return nil, fmt.Errorf("downloading %s to %s: %w", evidenceID, path, err)
	}
	res := &DownloadResult{Evidence: *ev, Path: path, SHA256: hex.EncodeToString(sum), Size: n, Custody: content.Custody}
	if res.Received, err = c.Received(ctx, evidenceID, content.Custody, res.SHA256, n); err != nil {
		return res, &ReceiptError{EvidenceID: evidenceID, Err: err}
	}
	return res, nil
}

// writeVerified copies r into a temporary file next to path while hashing it, and
// renames the file to path only if the SHA-256 is want. It removes the temporary file
// on any failure. A mismatch is an *IntegrityError with only Received set.
func writeVerified(ctx context.Context, path string, r io.Reader, size int64, want []byte, progress ProgressFunc) (sum []byte, n int64, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return nil, 0, fmt.Errorf("creating temporary file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	pw := &progressWriter{w: io.MultiWriter(f, h), total: size, progress: progress, ctx: ctx}
	pw.report()
	if n, err = io.CopyBuffer(pw, r, make([]byte, chunkSize)); err != nil {
		return nil, n, fmt.Errorf("receiving content after %d bytes: %w", n, err)
	}
	if size >= 0 && n != size {
		return nil, n, fmt.Errorf("received %d bytes, want %d", n, size)
	}
	sum = h.Sum(nil)
	if !bytes.Equal(sum, want) {
		return nil, n, &IntegrityError{Received: hex.EncodeToString(sum)}
	}
	if err = f.Sync(); err != nil {
		return nil, n, fmt.Errorf("syncing temporary file: %w", err)
	}
	if err = f.Close(); err != nil {
		return nil, n, fmt.Errorf("closing temporary file: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return nil, n, fmt.Errorf("renaming temporary file into place: %w", err)
	}
	syncDir(filepath.Dir(path))
	return sum, n, nil
}

// syncDir makes a rename in dir durable, as far as the platform allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// progressWriter counts bytes written, reports them and stops when ctx ends.
type progressWriter struct {
	ctx      context.Context
	w        io.Writer
	done     int64
	total    int64
	progress ProgressFunc
}

func (p *progressWriter) Write(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.report()
	return n, err
}

func (p *progressWriter) report() {
	if p.progress != nil {
		p.progress(PhaseDownloading, p.done, p.total)
	}
}
