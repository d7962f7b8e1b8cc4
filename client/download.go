package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// ContentRequest selects what one content request asks for (docs/api.md, "Resumable
// downloads").
type ContentRequest struct {
	// From, if above 0, asks for the content from that byte on (Range: bytes=From-).
	From int64
	// IfRange is the ETag of an earlier answer: the range holds only while it names the
	// content; otherwise the whole content comes back (200).
	IfRange string
	// TransferID continues that transfer of the caller; "" starts a new one.
	TransferID string
}

// ContentResponse is an open content stream (GET /v1/evidence/{id}/content). The
// caller must close Body and must not trust the bytes before checking the whole
// content against ReprDigest and the registered digest (Download does both).
type ContentResponse struct {
	Body io.ReadCloser
	// Size is the announced Content-Length, -1 if none.
	Size int64
	// Partial is set for a 206: Body holds the content from Offset; Total is the whole
	// content's length (-1 if unknown, on a 200 without Content-Length).
	Partial bool
	Offset  int64
	Total   int64
	// ReprDigest is the SHA-256 of the whole content the gateway announced in
	// Repr-Digest.
	ReprDigest []byte
	// ETag is the content's entity tag, for If-Range; TransferID names the transfer.
	ETag       string
	TransferID string
	// Custody is the download-start or download-resume event of this request, if the
	// gateway sent it.
	Custody *api.CustodyReceipt
}

// Content opens the whole content of an evidence item in a new transfer.
func (c *Client) Content(ctx context.Context, evidenceID string) (*ContentResponse, error) {
	return c.ContentFrom(ctx, evidenceID, ContentRequest{})
}

// ContentFrom opens one request of a download transfer: the content from cr.From on,
// in the transfer cr.TransferID names or in a new one. The gateway records the request
// when it starts it, and whether it delivered the content when it ends.
func (c *Client) ContentFrom(ctx context.Context, evidenceID string, cr ContentRequest) (*ContentResponse, error) {
	path, err := evidencePath(evidenceID, "/content")
	if err != nil {
		return nil, err
	}
	if cr.TransferID != "" && !custody.ValidTransferID(cr.TransferID) {
		return nil, fmt.Errorf("invalid transfer id %q: want tr- and 26 letters or digits 2-7", cr.TransferID)
	}
	op := "GET " + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path, nil), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", api.ContentMediaType)
	if cr.From > 0 {
		req.Header.Set("Range", api.ByteRange{First: cr.From, Last: -1}.String())
		if cr.IfRange != "" {
			req.Header.Set("If-Range", cr.IfRange)
		}
	}
	if cr.TransferID != "" {
		req.Header.Set(api.HeaderTransferID, cr.TransferID)
	}
	resp, err := c.send(req, http.StatusOK, http.StatusPartialContent)
	if err != nil {
		return nil, err
	}
	out, err := contentResponse(resp)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// contentResponse reads the headers of a 200 or 206 content answer.
func contentResponse(resp *http.Response) (*ContentResponse, error) {
	cr := &ContentResponse{Body: resp.Body, Size: resp.ContentLength, Total: resp.ContentLength,
		ETag: resp.Header.Get("ETag"), TransferID: resp.Header.Get(api.HeaderTransferID)}
	var err error
	if resp.StatusCode == http.StatusPartialContent {
		cr.Partial = true
		var n int64
		if cr.Offset, n, cr.Total, err = api.ParseContentRange(resp.Header.Get("Content-Range")); err != nil {
			return nil, err
		}
		if cr.Size >= 0 && cr.Size != n {
			return nil, fmt.Errorf("Content-Length %d differs from the %d bytes of Content-Range", cr.Size, n)
		}
	}
	if cr.ReprDigest, err = api.ParseDigest(resp.Header.Values(api.HeaderReprDigest)...); err != nil {
		return nil, fmt.Errorf("Repr-Digest header: %w", err)
	}
	if cr.Custody, err = custodyHeader(resp); err != nil {
		return nil, err
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

// InterruptedError is a download that stopped before its end (the connection broke and
// did not come back within the retries, or the caller cancelled). The bytes received so
// far are kept beside the target, and Download resumes from them when called again.
type InterruptedError struct {
	EvidenceID string
	// Partial is the file that holds the bytes received; Received how many.
	Partial  string
	Received int64
	Size     int64
	Err      error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("downloading %s: interrupted after %d of %d bytes (kept in %s; run the download again to resume): %v",
		e.EvidenceID, e.Received, e.Size, e.Partial, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// DownloadResult is a completed, verified download.
type DownloadResult struct {
	Evidence api.EvidenceView
	Path     string
	// SHA256 is the hex SHA-256 of the file written, equal to the registered one.
	SHA256 string
	Size   int64
	// Resumed is how many bytes were already on disk from an earlier attempt, and
	// Requests how many content requests this call made.
	Resumed  int64
	Requests int
	// TransferID names the download transfer; Custody is the start or resume event of
	// its last request, if the gateway sent it.
	TransferID string
	Custody    *api.CustodyReceipt
	// Received is the received event that records the member's signed receipt of
	// what the download delivered (it names the transfer by Custody).
	Received *api.CustodyReceipt
}

// DownloadOptions change how Download works.
type DownloadOptions struct {
	// Restart discards the bytes an earlier, interrupted download left, instead of
	// resuming from them.
	Restart bool
	// Retries is how many times in a row a transfer that breaks off without a byte of
	// progress is resumed before Download gives up; 0 means DefaultRetries, a negative
	// value none. A request that made progress resets the count. No timeout ends a
	// transfer that still moves.
	Retries int
	// RetryDelay is the first pause before resuming a broken transfer, doubled after
	// each failure up to a minute; 0 means one second.
	RetryDelay time.Duration
}

// DefaultRetries is how many times in a row Download resumes a transfer that breaks off.
const DefaultRetries = 5

// maxRetryDelay bounds the pause between two attempts to resume.
const maxRetryDelay = time.Minute

// Download fetches an evidence item's content into the file at path, which must not
// exist. It writes to a partial file next to path (".<name>.part", with its state in
// ".<name>.part.json": the evidence, its digest, the transfer), hashing as it writes,
// and renames it into place only once the whole content matches both the Repr-Digest
// the gateway announced and the digest the evidence was registered with.
//
// A transfer that breaks off is resumed (a ranged request in the same transfer) up to
// opts.Retries times in a row; if it still cannot finish, Download returns an
// *InterruptedError and keeps the partial file. Called again, Download first hashes
// the bytes already on disk (progress phase "resuming"), then asks for the rest in the
// same transfer, so the download counts once. A digest mismatch is an
// *IntegrityError, and then nothing is kept: neither path nor the partial file.
//
// Once the file is in place, it sends the member's signed receipt of what it received
// (Received); if that fails, it returns the result with a *ReceiptError.
func (c *Client) Download(ctx context.Context, evidenceID, path string, opts DownloadOptions, progress ProgressFunc) (*DownloadResult, error) {
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
	if err != nil || len(registered) != sha256.Size || ev.Size < 0 {
		return nil, fmt.Errorf("downloading %s: the gateway reports an invalid registered SHA-256 %q or size %d", evidenceID, ev.SHA256, ev.Size)
	}
	d := &download{c: c, id: evidenceID, path: path, ev: ev, registered: registered, opts: opts, progress: progress}
	d.part = filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".part")
	d.statePath = d.part + ".json"
	if err := d.open(ctx); err != nil {
		return nil, fmt.Errorf("downloading %s to %s: %w", evidenceID, path, err)
	}
	res, err := d.run(ctx)
	if err != nil {
		d.f.Close()
		var ie *IntegrityError
		if errors.As(err, &ie) || errors.Is(err, errDiscard) {
			d.discard()
		}
		return nil, err
	}
	if res.Received, err = c.Received(ctx, evidenceID, res.Custody, res.SHA256, res.Size); err != nil {
		return res, &ReceiptError{EvidenceID: evidenceID, Err: err}
	}
	return res, nil
}

// partialState is what the state file next to a partial download keeps.
type partialState struct {
	EvidenceID string `json:"evidence_id"`
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	TransferID string `json:"transfer_id,omitempty"`
	ETag       string `json:"etag,omitempty"`
}

// download is one call of Download.
type download struct {
	c          *Client
	id, path   string
	part       string
	statePath  string
	ev         *api.EvidenceView
	registered []byte
	opts       DownloadOptions
	progress   ProgressFunc

	f        *os.File
	h        hash.Hash
	n        int64 // bytes in the partial file, all hashed into h
	resumed  int64
	st       partialState
	requests int
	custody  *api.CustodyReceipt
}

// errDiscard marks failures after which the partial file is worthless.
var errDiscard = errors.New("the partial download cannot be resumed")

// open opens the partial file: the one an earlier attempt left for this evidence,
// hashing what it holds, or a new one.
func (d *download) open(ctx context.Context) error {
	want := partialState{EvidenceID: d.id, SHA256: d.ev.SHA256, Size: d.ev.Size}
	d.h = sha256.New()
	if !d.opts.Restart {
		if st, ok := d.readState(); ok && st.EvidenceID == want.EvidenceID && st.SHA256 == want.SHA256 && st.Size == want.Size {
			f, err := os.OpenFile(d.part, os.O_RDWR, 0)
			if err == nil {
				n, herr := d.hashExisting(ctx, f)
				if herr != nil {
					f.Close()
					return herr
				}
				if n <= d.ev.Size {
					d.f, d.n, d.resumed, d.st = f, n, n, st
					return nil
				}
				f.Close() // longer than the content: not a partial of it
				d.h.Reset()
			}
		}
	}
	f, err := os.OpenFile(d.part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("creating the partial file: %w", err)
	}
	d.f, d.n, d.st = f, 0, want
	return d.saveState()
}

// hashExisting hashes the bytes of a partial file and leaves f at its end.
func (d *download) hashExisting(ctx context.Context, f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading the partial file: %w", err)
	}
	pw := &progressWriter{ctx: ctx, w: d.h, total: fi.Size(), progress: d.progress, phase: PhaseResuming}
	pw.report()
	n, err := io.CopyBuffer(pw, f, make([]byte, chunkSize))
	if err != nil {
		return 0, fmt.Errorf("hashing the partial file: %w", err)
	}
	return n, nil
}

func (d *download) readState() (partialState, bool) {
	var st partialState
	b, err := os.ReadFile(d.statePath)
	if err != nil || len(b) > 4096 || json.Unmarshal(b, &st) != nil {
		return st, false
	}
	if !custody.ValidTransferID(st.TransferID) {
		st.TransferID = ""
	}
	return st, true
}

// saveState writes the state file: a temporary file renamed over the old one.
func (d *download) saveState() error {
	b, err := json.Marshal(d.st)
	if err != nil {
		return err
	}
	tmp := d.statePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing the partial download's state: %w", err)
	}
	if err := os.Rename(tmp, d.statePath); err != nil {
		return fmt.Errorf("writing the partial download's state: %w", err)
	}
	return nil
}

// discard removes the partial file and its state.
func (d *download) discard() {
	os.Remove(d.part)
	os.Remove(d.statePath)
}

// run asks for what is missing until the partial file holds the whole content, then
// checks and moves it into place.
func (d *download) run(ctx context.Context) (*DownloadResult, error) {
	size := d.ev.Size
	retries := d.opts.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	delay := d.opts.RetryDelay
	if delay <= 0 {
		delay = time.Second
	}
	failures := 0
	// A partial file that already holds the whole content needs no request (the
	// request that sent its last byte delivered the transfer); otherwise one request
	// must end the content, the empty content included.
	ended := size > 0 && d.resumed == size
	for !ended {
		progressed, err := d.request(ctx)
		if err == nil {
			ended = true
			continue
		}
		if ctx.Err() != nil || !resumable(err) {
			return nil, d.interrupted(err)
		}
		if progressed {
			failures = 0
		}
		if failures++; failures > retries {
			return nil, d.interrupted(err)
		}
		wait := min(delay<<(failures-1), maxRetryDelay)
		select {
		case <-ctx.Done():
			return nil, d.interrupted(ctx.Err())
		case <-time.After(wait):
		}
	}
	return d.finish()
}

// resumable reports whether a failed request may be sent again: the connection broke
// (a transport error), not a refusal or a failed check.
func resumable(err error) bool {
	var p *api.Problem
	var ie *IntegrityError
	return !errors.As(err, &p) && !errors.As(err, &ie) && !errors.Is(err, errDiscard) &&
		!errors.Is(err, ErrCertificateRefused) && !errors.Is(err, ErrGatewayUntrusted)
}

// interrupted wraps err: for a failure the partial file survives, an
// *InterruptedError; refusals and failed checks as they are.
func (d *download) interrupted(err error) error {
	var p *api.Problem
	var ie *IntegrityError
	if errors.As(err, &p) || errors.As(err, &ie) || errors.Is(err, errDiscard) {
		return err
	}
	d.f.Sync()
	return &InterruptedError{EvidenceID: d.id, Partial: d.part, Received: d.n, Size: d.ev.Size, Err: err}
}

// request sends one content request for what is missing and appends what comes.
func (d *download) request(ctx context.Context) (progressed bool, err error) {
	d.requests++
	cr, err := d.c.ContentFrom(ctx, d.id, ContentRequest{From: d.n, IfRange: d.st.ETag, TransferID: d.st.TransferID})
	var p *api.Problem
	if errors.As(err, &p) && p.Type == api.ProblemBase+api.ProblemTransferNotResumable && d.st.TransferID != "" {
		// The transfer cannot be continued (delivered, say): a new one, from here.
		d.st.TransferID = ""
		cr, err = d.c.ContentFrom(ctx, d.id, ContentRequest{From: d.n, IfRange: d.st.ETag})
	}
	if err != nil {
		if errors.As(err, &p) && p.Type == api.ProblemBase+api.ProblemIntegrityFailure {
			return false, fmt.Errorf("downloading %s: %w: %w", d.id, errDiscard, err)
		}
		return false, fmt.Errorf("downloading %s: %w", d.id, err)
	}
	defer cr.Body.Close()
	if !bytes.Equal(cr.ReprDigest, d.registered) {
		return false, &IntegrityError{EvidenceID: d.id, Registered: d.ev.SHA256, Announced: hex.EncodeToString(cr.ReprDigest)}
	}
	if err := d.place(cr); err != nil {
		return false, err
	}
	d.st.TransferID, d.st.ETag, d.custody = cr.TransferID, cr.ETag, cr.Custody
	if err := d.saveState(); err != nil {
		return false, err
	}
	pw := &progressWriter{ctx: ctx, w: io.MultiWriter(d.f, d.h), done: d.n, total: d.ev.Size, progress: d.progress, phase: PhaseDownloading}
	pw.report()
	n, err := io.CopyBuffer(pw, cr.Body, make([]byte, chunkSize))
	d.n += n
	if err != nil {
		return n > 0, fmt.Errorf("receiving content after %d bytes: %w", d.n, err)
	}
	if d.n != d.ev.Size {
		return n > 0, fmt.Errorf("the answer ended at byte %d of %d", d.n, d.ev.Size)
	}
	return true, nil
}

// place checks where an answer's body starts and puts the partial file there: a 206
// must continue the file; a 200 (the gateway sent the whole content) starts it over.
func (d *download) place(cr *ContentResponse) error {
	if cr.Partial {
		if cr.Offset != d.n || cr.Total != d.ev.Size {
			return fmt.Errorf("downloading %s: asked for bytes from %d of %d, the gateway sent from %d of %d: %w",
				d.id, d.n, d.ev.Size, cr.Offset, cr.Total, errDiscard)
		}
		return nil
	}
	if cr.Size >= 0 && cr.Size != d.ev.Size {
		return fmt.Errorf("downloading %s: the gateway sends %d bytes, the evidence has %d: %w", d.id, cr.Size, d.ev.Size, errDiscard)
	}
	if d.n == 0 {
		return nil
	}
	if err := d.f.Truncate(0); err != nil {
		return fmt.Errorf("starting the partial file over: %w", err)
	}
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("starting the partial file over: %w", err)
	}
	d.h.Reset()
	d.n = 0
	return nil
}

// finish checks the whole content's digest and moves the file into place.
func (d *download) finish() (*DownloadResult, error) {
	sum := d.h.Sum(nil)
	if !bytes.Equal(sum, d.registered) {
		return nil, &IntegrityError{EvidenceID: d.id, Registered: d.ev.SHA256, Announced: d.ev.SHA256, Received: hex.EncodeToString(sum)}
	}
	if err := d.f.Sync(); err != nil {
		return nil, fmt.Errorf("syncing the partial file: %w", err)
	}
	if err := d.f.Close(); err != nil {
		return nil, fmt.Errorf("closing the partial file: %w", err)
	}
	if err := os.Rename(d.part, d.path); err != nil {
		return nil, fmt.Errorf("renaming the download into place: %w", err)
	}
	os.Remove(d.statePath)
	syncDir(filepath.Dir(d.path))
	return &DownloadResult{Evidence: *d.ev, Path: d.path, SHA256: hex.EncodeToString(sum), Size: d.n,
		Resumed: d.resumed, Requests: d.requests, TransferID: d.st.TransferID, Custody: d.custody}, nil
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
	phase    string
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
		p.progress(p.phase, p.done, p.total)
	}
}
