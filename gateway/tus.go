package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	xslog "golang.org/x/exp/slog"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/exhibit"
)

// Resumable uploads speak tus 1.0 (creation, creation-with-upload, termination) and
// the IETF resumable-upload draft as github.com/tus/tusd/v2 serves them, on
// /v1/uploads (docs/api.md, "Resumable uploads"). tusd parses the protocol; its data
// store (tusStore) is the exhibit package's upload sessions, which decide, seal and
// store. Every request is authenticated and limited like the rest of the API before
// tusd sees it, and tusd's error answers are replaced by the API's problems: an error
// of ours goes through problemFor, a protocol error of tusd's becomes an
// upload-protocol problem, and no internal error text reaches the client.
//
// The bytes are checked once all are there: POST /v1/uploads/{id}/register with the
// whole file's Repr-Digest, which the client computes while it sends.

// Upload-Metadata keys of a new upload.
const (
	metaCaseID      = "case_id"
	metaDescription = "description"
)

// tusErrBody bounds the error text of tusd kept to name its protocol error.
const tusErrBody = 512

// uploadsPath is the tus base path.
const uploadsPath = "/v1/uploads/"

// newTus returns the tusd handler over the upload sessions.
func (s *Server) newTus() (*tusd.UnroutedHandler, error) {
	composer := tusd.NewStoreComposer()
	store := tusStore{s}
	composer.UseCore(store)
	composer.UseTerminater(store)
	// Requests of one upload take turns; a new one interrupts one still running (a
	// PATCH whose client is gone without the gateway knowing yet), as tus intends.
	memorylocker.New().UseIn(composer)
	networkTimeout := s.cfg.BodyIdleTimeout
	if networkTimeout <= 0 {
		networkTimeout = 24 * time.Hour // idle.go cuts nothing either
	}
	return tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:        composer,
		BasePath:             uploadsPath,
		MaxSize:              s.cfg.MaxUploadBytes,
		DisableDownload:      true,
		DisableConcatenation: true,
		// The API is for the CLI and the console's server side, not for browsers
		// of other origins.
		Cors:                       &tusd.CorsConfig{Disable: true},
		EnableExperimentalProtocol: true,
		NetworkTimeout:             networkTimeout,
		// tusd's own log would repeat the access log and could carry error texts;
		// the gateway logs every request itself.
		Logger: xslog.New(xslog.NewTextHandler(io.Discard, nil)),
	})
}

// tusCall is what one request through tusd leaves for the gateway: the first error the
// data store met, and the response writer, for headers of the gateway's own.
type tusCall struct {
	mu  sync.Mutex
	err error
	w   http.ResponseWriter
	p   exhibit.Principal
}

type tusCallKey struct{}

func callOf(ctx context.Context) *tusCall {
	c, _ := ctx.Value(tusCallKey{}).(*tusCall)
	if c == nil {
		return &tusCall{}
	}
	return c
}

// fail keeps err as the request's error (the first one) and returns it.
func (c *tusCall) fail(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	return err
}

func (c *tusCall) recorded() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// setExpires sets the tus expiration header of a session's answer.
func (c *tusCall) setExpires(t time.Time) {
	if c.w != nil && !t.IsZero() {
		c.w.Header().Set("Upload-Expires", t.UTC().Format(http.TimeFormat))
	}
}

// tusError is a protocol error tusd answered by itself; its message is tusd's fixed
// text, safe to show.
type tusError struct {
	status int
	code   string
	msg    string
}

func (e *tusError) Error() string { return e.code + ": " + e.msg }

// tusWriter holds back an error answer tusd writes, so the gateway can answer with
// its problem instead; success answers pass through.
type tusWriter struct {
	http.ResponseWriter
	failed int
	body   bytes.Buffer
}

func (w *tusWriter) WriteHeader(code int) {
	if code >= http.StatusBadRequest {
		w.failed = code
		h := w.Header()
		h.Del("Content-Length")
		h.Del("Content-Type")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *tusWriter) Write(b []byte) (int, error) {
	if w.failed != 0 {
		if room := tusErrBody - w.body.Len(); room > 0 {
			w.body.Write(b[:min(len(b), room)])
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (tusd's deadlines) reach the connection.
func (w *tusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// err returns the error of a held-back answer: the data store's, or tusd's own.
func (w *tusWriter) err(call *tusCall) error {
	if w.failed == 0 {
		return nil
	}
	if err := call.recorded(); err != nil {
		return err
	}
	code, msg, _ := strings.Cut(strings.TrimSpace(w.body.String()), ": ")
	if code == "" {
		code = "ERR_" + strings.ToUpper(strings.ReplaceAll(http.StatusText(w.failed), " ", "_"))
	}
	return &tusError{status: w.failed, code: code, msg: msg}
}

// tus serves one tus request: f is the tusd method for it. Creations and appends
// count as uploads in flight, for the member's and the gateway's bounds.
func (s *Server) tus(f func(http.ResponseWriter, *http.Request), transfers bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
		if transfers {
			release, err := s.takeUpload(w, r, p)
			if err != nil {
				return err
			}
			defer release()
		}
		tw := &tusWriter{ResponseWriter: w}
		call := &tusCall{w: w, p: p}
		r = r.WithContext(context.WithValue(r.Context(), tusCallKey{}, call))
		if id, ok := mux.Vars(r)["id"]; ok {
			// tusd takes the upload id as the whole path, its base path stripped.
			r.URL.Path, r.URL.RawPath = id, ""
		}
		s.tusd.Middleware(http.HandlerFunc(f)).ServeHTTP(tw, r)
		return tw.err(call)
	}
}

// tusStore is tusd's data store: the upload sessions of package exhibit, as the
// request's principal.
type tusStore struct{ s *Server }

var (
	_ tusd.DataStore           = tusStore{}
	_ tusd.TerminaterDataStore = tusStore{}
)

func (t tusStore) NewUpload(ctx context.Context, info tusd.FileInfo) (tusd.Upload, error) {
	call := callOf(ctx)
	if info.SizeIsDeferred {
		return nil, call.fail(malformed("Upload-Length is required"))
	}
	acq, err := acquisitionOfMetadata(info.MetaData)
	if err != nil {
		return nil, call.fail(err)
	}
	st, err := t.s.cfg.Exhibits.StartUpload(ctx, call.p, exhibit.UploadStart{CaseID: info.MetaData[metaCaseID],
		Description: info.MetaData[metaDescription], Length: info.Size, Acquisition: acq})
	if err != nil {
		return nil, call.fail(err)
	}
	call.setExpires(st.Expires)
	return &tusUpload{s: t.s, call: call, st: st}, nil
}

func (t tusStore) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	call := callOf(ctx)
	st, err := t.s.cfg.Exhibits.UploadStatus(ctx, call.p, id)
	if err != nil {
		return nil, call.fail(err)
	}
	call.setExpires(st.Expires)
	return &tusUpload{s: t.s, call: call, st: st}, nil
}

func (t tusStore) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload { return u.(*tusUpload) }

// tusUpload is one session, as one request sees it.
type tusUpload struct {
	s    *Server
	call *tusCall
	st   exhibit.UploadStatus
}

func (u *tusUpload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	st, err := u.s.cfg.Exhibits.WriteUpload(ctx, u.call.p, u.st.UploadID, offset, src)
	if err != nil {
		return st.Offset - offset, u.call.fail(err)
	}
	u.st = st
	return st.Offset - offset, nil
}

func (u *tusUpload) GetInfo(context.Context) (tusd.FileInfo, error) {
	return tusd.FileInfo{ID: u.st.UploadID, Size: u.st.Length, Offset: u.st.Offset, MetaData: tusd.MetaData{}}, nil
}

func (u *tusUpload) GetReader(context.Context) (io.ReadCloser, error) {
	return nil, u.call.fail(errMethodNotAllowed)
}

// FinishUpload does nothing: the upload is registered by its own request, with the
// client's digest.
func (u *tusUpload) FinishUpload(context.Context) error { return nil }

func (u *tusUpload) Terminate(ctx context.Context) error {
	if err := u.s.cfg.Exhibits.CancelUpload(ctx, u.call.p, u.st.UploadID); err != nil {
		return u.call.fail(err)
	}
	return nil
}

// registerUpload registers a complete upload: the client declares the whole file's
// SHA-256 in Repr-Digest.
func (s *Server) registerUpload(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	want, err := api.ParseDigest(r.Header.Values(api.HeaderReprDigest)...)
	if err != nil {
		return malformed("Repr-Digest with a sha-256 member is required: %v", err)
	}
	res, err := s.cfg.Exhibits.FinishUpload(r.Context(), p, mux.Vars(r)["id"], want)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// tusProblem is the problem of a protocol error tusd answered by itself.
func tusProblem(e *tusError) api.Problem {
	if e.status >= http.StatusInternalServerError {
		return api.NewProblem(api.ProblemInternal, e.status, "internal error; see the gateway log")
	}
	switch {
	case e.status == http.StatusConflict && e.code == "ERR_MISMATCHED_OFFSET":
		return api.NewProblem(api.ProblemUploadOffset, e.status, "Upload-Offset is not where the upload continues: ask with HEAD")
	case e.status == http.StatusNotFound:
		return api.NewProblem(api.ProblemNotFound, e.status, "no such upload")
	case e.status == http.StatusRequestEntityTooLarge:
		return api.NewProblem(api.ProblemTooLarge, e.status, fmt.Sprintf("%s: %s", e.code, e.msg))
	}
	return api.NewProblem(api.ProblemUploadProtocol, e.status, fmt.Sprintf("%s: %s", e.code, e.msg))
}
