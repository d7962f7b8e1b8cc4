package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
)

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p exhibit.Principal) error {
	writeJSON(w, http.StatusOK, custody.Party{Agency: p.Agency, Jurisdiction: p.Jurisdiction, Person: p.Person, Role: p.Role})
	return nil
}

// upload registers evidence. Every refusal it can decide from the request head (size,
// digest header, the member's and the gateway's uploads in flight; identity, rate and
// policy are decided before it or by Register before it reads) comes before the first
// Read of the body, so a client that sent Expect: 100-continue gets it instead of
// 100 Continue.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	if s.cfg.MaxUploadBytes > 0 && r.ContentLength > s.cfg.MaxUploadBytes {
		return &http.MaxBytesError{Limit: s.cfg.MaxUploadBytes}
	}
	q := r.URL.Query()
	acquisition, err := acquisitionOf(q)
	if err != nil {
		return err
	}
	want, err := api.ParseDigest(r.Header.Values(api.HeaderContentDigest)...)
	if err != nil {
		return malformed("Content-Digest with a sha-256 member is required: %v", err)
	}
	var key string
	if vs := r.Header.Values(api.HeaderIdempotencyKey); len(vs) > 0 {
		if key, err = api.ParseIdempotencyKey(vs...); err != nil {
			return malformed("%v", err)
		}
	}
	release, err := s.takeUpload(w, r, p)
	if err != nil {
		return err
	}
	defer release()
	body := r.Body
	if s.cfg.MaxUploadBytes > 0 {
		body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	}
	res, err := s.cfg.Exhibits.Register(r.Context(), p, exhibit.Upload{CaseID: q.Get("case_id"),
		Description: q.Get("description"), SHA256: want, Content: requestBody{body}, IdempotencyKey: key,
		Acquisition: acquisition})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) show(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	v, err := s.cfg.Exhibits.Show(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	h, err := s.cfg.Exhibits.History(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) share(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.ShareRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.Share(r.Context(), p, mux.Vars(r)["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.RevokeRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.Revoke(r.Context(), p, mux.Vars(r)["id"], mux.Vars(r)["grant"], req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.AcceptRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.Accept(r.Context(), p, mux.Vars(r)["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) hold(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	return s.setHold(w, r, p, true)
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	return s.setHold(w, r, p, false)
}

func (s *Server) setHold(w http.ResponseWriter, r *http.Request, p exhibit.Principal, on bool) error {
	var req api.HoldRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	rc, err := s.cfg.Exhibits.Hold(r.Context(), p, mux.Vars(r)["id"], on, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rc)
	return nil
}

func (s *Server) dispose(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.DisposeRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.Dispose(r.Context(), p, mux.Vars(r)["id"], req.Authority)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) bundle(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	from, err := querySizes(r, "consistency_from")
	if err != nil {
		return err
	}
	out, rc, err := s.cfg.Exhibits.Bundle(r.Context(), p, mux.Vars(r)["id"], from)
	if err != nil {
		return err
	}
	setCustodyHeader(w, rc)
	w.Header().Set("Content-Type", custody.BundleMediaType)
	_, err = w.Write(out)
	return err
}

// download streams one request of a download transfer: the whole content (200) or the
// one range asked for (206), docs/api.md "Resumable downloads". Every segment is
// authenticated before it is sent; a failure once bytes flow breaks the stream (the api
// adapter aborts the response), so the client never sees a complete, wrong file; so
// does a client that stops reading for the idle timeout. How the request ended is
// recorded (Content.End): delivered if it sent the content's last byte, abandoned if
// it failed.
func (s *Server) download(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	req := exhibit.DownloadRequest{IfRange: r.Header.Get("If-Range"), TransferID: r.Header.Get(api.HeaderTransferID)}
	req.Range, req.RangeErr = api.ParseRange(r.Header.Values("Range")...)
	c, err := s.cfg.Exhibits.Download(r.Context(), p, mux.Vars(r)["id"], req)
	var unsatisfiable *exhibit.RangeError
	if errors.As(err, &unsatisfiable) {
		w.Header().Set("Content-Range", api.FormatUnsatisfiedRange(unsatisfiable.Size))
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", api.ContentMediaType)
	h.Set("Content-Length", strconv.FormatInt(c.Length, 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", c.ETag)
	h.Set(api.HeaderReprDigest, api.FormatDigest(c.SHA256))
	h.Set(api.HeaderTransferID, c.TransferID)
	setCustodyHeader(w, c.Custody)
	if c.Partial {
		h.Set("Content-Range", api.FormatContentRange(c.Offset, c.Length, c.Size))
		w.WriteHeader(http.StatusPartialContent)
	}
	// c.Body writes each authenticated segment straight to the response (WriterTo).
	n, err := io.Copy(s.watchResponse(w), c.Body)
	c.Body.Close()
	c.End(r.Context(), n, s.endCause(r, err))
	return err
}

// endCause says why a download request failed, for its custody record: the client
// left or stalled, or the error itself (an integrity failure, a store error).
func (s *Server) endCause(r *http.Request, err error) error {
	var idle *idleError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &idle):
		return fmt.Errorf("%w: %w", exhibit.ErrClientStalled, err)
	case !errors.Is(err, exhibit.ErrIntegrity) && clientGone(r, err):
		return fmt.Errorf("%w: %w", exhibit.ErrClientGone, err)
	}
	return err
}

// setCustodyHeader carries the custody receipt of a response whose body is not JSON.
func setCustodyHeader(w http.ResponseWriter, rc api.CustodyReceipt) {
	if v, err := api.FormatCustodyEvent(rc); err == nil {
		w.Header().Set(api.HeaderCustodyEvent, v)
	}
}
