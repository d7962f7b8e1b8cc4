package client

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// A resumable upload (docs/api.md, "Resumable uploads") speaks tus 1.0 on /v1/uploads:
// the client creates the upload, sends the file in one PATCH from where the gateway's
// durable bytes end, and, when the connection drops, asks where they end (HEAD) and
// sends again from there, with backoff, for as long as the context allows. It reads
// the file once, hashing it as it sends; to continue the hash from the gateway's
// offset it keeps the SHA-256 state every hashStride bytes (and, through an
// UploadStateStore, across runs of the program). Once every byte is durable it
// registers the upload with the file's Repr-Digest.

const (
	// hashStride is the spacing of the kept SHA-256 states: a resume re-reads at most
	// this much of the file before it sends again.
	hashStride = 1 << 20
	// keptStates bounds the SHA-256 states kept in memory: a window of 1 GiB behind
	// what was sent, far more than the gateway can be behind (one part and buffers).
	keptStates = 1024
	// savedStates and saveEvery: the state file keeps up to savedStates states
	// saveStride apart, rewritten every saveEvery bytes sent.
	savedStates = 32
	saveStride  = 16 << 20
	saveEvery   = 64 << 20
	// maxResumeWait caps the backoff between two tries of a cut transfer.
	maxResumeWait = time.Minute
)

// PhaseResuming is reported while a resumed transfer re-reads the part of the file
// already transferred, to continue its hash: the part of an upload the gateway has, the
// part of a download already on disk.
const PhaseResuming = "resuming"

// HashState is the SHA-256 state of a file's first Offset bytes.
type HashState struct {
	Offset int64  `json:"offset"`
	State  []byte `json:"state"`
}

// UploadState is what a resumable upload keeps to continue after the program stops.
type UploadState struct {
	// URL is the upload's address at the gateway.
	URL string `json:"url"`
	// Size is the file's length.
	Size int64 `json:"size"`
	// Hashes are SHA-256 states of the file's prefixes, oldest first.
	Hashes []HashState `json:"hashes,omitempty"`
}

// UploadStateStore keeps an UploadState between runs (a small file). Load returns nil
// and no error if there is none.
type UploadStateStore interface {
	Load() (*UploadState, error)
	Save(UploadState) error
	Clear() error
}

// ResumableUpload describes a resumable upload.
type ResumableUpload struct {
	CaseID      string
	Description string
	// Acquisition, if set, is the forensic metadata of the exhibit, sent with the
	// upload's creation (Upload-Metadata) and recorded in its register event.
	Acquisition *custody.Acquisition
	// Content is read once from the offset the gateway continues at (and, when a
	// resume must continue a hash, from the nearest kept state to that offset).
	Content io.ReaderAt
	Size    int64
	// Progress, if set, follows the sending: done starts at the resumed offset.
	Progress ProgressFunc
	// State, if set, keeps the upload across runs: a run after a crash continues the
	// upload it names.
	State UploadStateStore
	// Retry bounds the wait before each try after a cut; nil means exponential
	// backoff up to a minute between tries, for as long as ctx allows.
	Retry backoff.BackOff
}

// UploadResumable uploads and registers a file, resuming after cuts.
func (c *Client) UploadResumable(ctx context.Context, req ResumableUpload) (*api.UploadResult, error) {
	if !custody.ValidCaseID(req.CaseID) {
		return nil, fmt.Errorf("uploading evidence: %q is not a valid case id (1 to 64 letters, digits, '.', '_' or '-')", req.CaseID)
	}
	u := &resumer{c: c, req: req, hashes: newHashRing()}
	res, err := u.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("uploading evidence: %w", err)
	}
	return res, nil
}

type resumer struct {
	c      *Client
	req    ResumableUpload
	url    string
	hashes *hashRing
	saved  int64 // bytes sent when the state was last saved
}

func (u *resumer) run(ctx context.Context) (*api.UploadResult, error) {
	bo := u.req.Retry
	if bo == nil {
		eb := backoff.NewExponentialBackOff()
		eb.MaxInterval = maxResumeWait
		bo = eb
	}
	// A creation whose answer is lost is made again: the first upload, never used,
	// expires at the gateway.
	offset, err := backoff.Retry(ctx, func() (int64, error) {
		offset, err := u.open(ctx)
		var p *api.Problem
		if err != nil && (errors.As(err, &p) && !retryable(p) || ctx.Err() != nil) {
			return 0, backoff.Permanent(err)
		}
		return offset, err
	}, backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(0))
	if err != nil {
		return nil, err
	}
	bo.Reset()
	for {
		var res *api.UploadResult
		if offset < u.req.Size {
			offset, err = u.patch(ctx, offset)
		} else {
			res, err = u.register(ctx)
		}
		if err == nil {
			if res != nil {
				return res, nil
			}
			bo.Reset()
			continue
		}
		var p *api.Problem
		if errors.As(err, &p) && !retryable(p) || ctx.Err() != nil {
			return nil, err
		}
		wait := bo.NextBackOff()
		if wait == backoff.Stop {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		if offset, err = u.head(ctx); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether an upload refused with p may be tried again.
func retryable(p *api.Problem) bool {
	switch {
	case p.Status >= 500, p.Status == http.StatusTooManyRequests, p.Status == http.StatusRequestTimeout,
		p.Status == http.StatusLocked, p.Kind() == api.ProblemUploadOffset:
		return true
	}
	return false
}

// open continues the upload of the state store, if the gateway still has it, or
// creates a new one, and returns the offset to send from.
func (u *resumer) open(ctx context.Context) (int64, error) {
	if u.req.State != nil {
		st, err := u.req.State.Load()
		if err != nil {
			return 0, fmt.Errorf("reading the upload state: %w", err)
		}
		if st != nil && st.Size == u.req.Size && st.URL != "" {
			u.url = st.URL
			for _, h := range st.Hashes {
				u.hashes.add(h.Offset, h.State)
			}
			offset, err := u.head(ctx)
			var p *api.Problem
			if errors.As(err, &p) && p.Status == http.StatusNotFound {
				u.hashes = newHashRing() // expired or removed: start again
			} else {
				return offset, err
			}
		}
	}
	return 0, u.create(ctx)
}

// create begins the upload at the gateway.
func (u *resumer) create(ctx context.Context) error {
	meta := "case_id " + base64.StdEncoding.EncodeToString([]byte(u.req.CaseID))
	if u.req.Description != "" {
		meta += ",description " + base64.StdEncoding.EncodeToString([]byte(u.req.Description))
	}
	q := url.Values{}
	api.SetAcquisitionQuery(q, u.req.Acquisition)
	for _, k := range api.AcquisitionParams {
		if v := q.Get(k); v != "" {
			meta += "," + k + " " + base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.c.endpoint("/v1/uploads", nil), http.NoBody)
	if err != nil {
		return err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(u.req.Size, 10))
	req.Header.Set("Upload-Metadata", meta)
	resp, err := u.c.send(req, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Host != req.URL.Host || loc.Scheme != req.URL.Scheme {
		return fmt.Errorf("POST /v1/uploads: the gateway answered with an upload address %q that is not its own", resp.Header.Get("Location"))
	}
	u.url = loc.String()
	u.hashes.add(0, nil)
	return u.save(0)
}

// head asks where the upload continues and prepares the hash for that offset.
func (u *resumer) head(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	resp, err := u.c.send(req, http.StatusOK)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 || offset > u.req.Size {
		return 0, fmt.Errorf("HEAD %s: Upload-Offset %q is not an offset of the %d bytes", u.url, resp.Header.Get("Upload-Offset"), u.req.Size)
	}
	return offset, u.hashTo(ctx, offset)
}

// hashTo makes the hash state at offset, from the nearest kept state before it.
func (u *resumer) hashTo(ctx context.Context, offset int64) error {
	from, state := u.hashes.before(offset)
	if from == offset {
		return nil
	}
	h, err := restoreSHA256(state)
	if err != nil {
		return err
	}
	if u.req.Progress != nil {
		u.req.Progress(PhaseResuming, 0, offset-from)
	}
	buf := make([]byte, chunkSize)
	for pos := from; pos < offset; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := u.req.Content.ReadAt(buf[:min(int64(len(buf)), offset-pos)], pos)
		if n == 0 && err != nil {
			return fmt.Errorf("reading the file at %d: %w", pos, err)
		}
		h.Write(buf[:n])
		pos += int64(n)
		u.keep(pos, h)
		if u.req.Progress != nil {
			u.req.Progress(PhaseResuming, pos-from, offset-from)
		}
	}
	u.hashes.add(offset, saveSHA256(h))
	return nil
}

// keep remembers the hash state at pos if it is on the stride, or the end.
func (u *resumer) keep(pos int64, h hash.Hash) {
	if pos%hashStride == 0 || pos == u.req.Size {
		u.hashes.add(pos, saveSHA256(h))
	}
}

// patch sends the file from offset in one request and returns the offset the gateway
// answers (the end of its last durable part).
func (u *resumer) patch(ctx context.Context, offset int64) (int64, error) {
	_, state := u.hashes.before(offset)
	h, err := restoreSHA256(state)
	if err != nil {
		return 0, err
	}
	body := &hashingReader{u: u, r: io.NewSectionReader(u.req.Content, offset, u.req.Size-offset), h: h, pos: offset}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u.url, body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = u.req.Size - offset
	if req.ContentLength == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if u.req.Progress != nil {
		u.req.Progress(PhaseUploading, offset, u.req.Size)
	}
	resp, err := u.c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, transportError("PATCH "+req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("PATCH %s: %w", req.URL.Path, readProblem(resp))
	}
	next, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || next < offset || next > u.req.Size {
		return 0, fmt.Errorf("PATCH %s: Upload-Offset %q is not an offset after %d", req.URL.Path, resp.Header.Get("Upload-Offset"), offset)
	}
	if err := u.hashTo(ctx, next); err != nil {
		return 0, err
	}
	return next, nil
}

// hashingReader is a PATCH body: it hashes the bytes as they are sent, keeps the hash
// states, saves the upload state and reports progress.
type hashingReader struct {
	u   *resumer
	r   io.Reader
	h   hash.Hash
	pos int64
}

func (b *hashingReader) Read(p []byte) (int, error) {
	// Stop at the next stride so the state there can be kept.
	if room := hashStride - b.pos%hashStride; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	b.pos += int64(n)
	b.u.keep(b.pos, b.h)
	if n > 0 && b.u.req.Progress != nil {
		b.u.req.Progress(PhaseUploading, b.pos, b.u.req.Size)
	}
	if b.pos-b.u.saved >= saveEvery {
		if serr := b.u.save(b.pos); serr != nil {
			return n, serr
		}
	}
	return n, err
}

// save writes the upload state: the address and the kept hash states up to sent.
func (u *resumer) save(sent int64) error {
	u.saved = sent
	if u.req.State == nil {
		return nil
	}
	return u.req.State.Save(UploadState{URL: u.url, Size: u.req.Size, Hashes: u.hashes.sample(savedStates, saveStride)})
}

// register registers the complete upload with the file's digest and the member's
// signed register act.
func (u *resumer) register(ctx context.Context) (*api.UploadResult, error) {
	_, state := u.hashes.before(u.req.Size)
	h, err := restoreSHA256(state)
	if err != nil {
		return nil, err
	}
	sum := h.Sum(nil)
	target, err := url.JoinPath(u.url, "register")
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set(api.HeaderReprDigest, api.FormatDigest(sum))
	req.Header.Set("Accept", api.JSONMediaType)
	// The member's signed act asks for the registration: signed afresh on every try,
	// so that a retry long after the first is still within the gateway's clock skew.
	act, err := u.c.actHeader(ctx, "", hex.EncodeToString(sum), custody.Act{Action: custody.ActionRegister,
		CaseID: u.req.CaseID, Description: u.req.Description, Acquisition: api.AcquisitionAsSent(u.req.Acquisition)})
	if err != nil {
		return nil, err
	}
	for k, v := range act {
		req.Header[k] = v
	}
	// Registering again answers with the same evidence: run retries it after a cut.
	resp, err := u.c.send(req, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r api.UploadResult
	if err := decodeJSON(resp, "POST "+req.URL.Path, &r); err != nil {
		return nil, err
	}
	if got := hex.EncodeToString(sum); r.Evidence.SHA256 != got {
		return nil, fmt.Errorf("the gateway registered SHA-256 %s, the file sent has %s", r.Evidence.SHA256, got)
	}
	if u.req.State != nil {
		if err := u.req.State.Clear(); err != nil {
			return nil, fmt.Errorf("registered %s, but removing the upload state: %w", r.Evidence.EvidenceID, err)
		}
	}
	return &r, nil
}

func restoreSHA256(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			return nil, fmt.Errorf("restoring a SHA-256 state: %w", err)
		}
	}
	return h, nil
}

func saveSHA256(h hash.Hash) []byte {
	b, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	return b
}

// hashRing keeps the latest keptStates hash states, by offset, in order.
type hashRing struct {
	states []HashState
}

func newHashRing() *hashRing { return &hashRing{} }

func (r *hashRing) add(offset int64, state []byte) {
	for len(r.states) > 0 && r.states[len(r.states)-1].Offset >= offset {
		r.states = r.states[:len(r.states)-1] // a resume went back: forget what is after
	}
	if len(r.states) == keptStates {
		r.states = append(r.states[:0], r.states[1:]...)
	}
	r.states = append(r.states, HashState{Offset: offset, State: state})
}

// before returns the kept state nearest at or before offset (the empty hash at 0 if
// none).
func (r *hashRing) before(offset int64) (int64, []byte) {
	for i := len(r.states) - 1; i >= 0; i-- {
		if r.states[i].Offset <= offset {
			return r.states[i].Offset, r.states[i].State
		}
	}
	return 0, nil
}

// sample returns up to n kept states at least stride apart, newest included.
func (r *hashRing) sample(n int, stride int64) []HashState {
	var out []HashState
	next := int64(-1)
	for i := len(r.states) - 1; i >= 0 && len(out) < n; i-- {
		if s := r.states[i]; next < 0 || s.Offset <= next {
			out = append(out, s)
			next = s.Offset - stride
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
