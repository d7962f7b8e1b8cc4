package exhibit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// DownloadRequest is what a content request asks for.
type DownloadRequest struct {
	// Range is the one range asked for; nil for the whole content.
	Range *api.ByteRange
	// IfRange is the request's If-Range value, if any: the range holds only if it is
	// the content's entity tag (api.ContentETag); otherwise the whole content is sent.
	IfRange string
	// TransferID continues a transfer the caller started; "" starts a new one.
	TransferID string
	// RangeErr, if set, is why the request's Range field did not parse: once the
	// caller is authorized, the request is refused as a *RangeError.
	RangeErr error
}

// Why a request of a transfer ended without delivering: the HTTP layer wraps these in
// the cause it gives Content.End, and the abandon event says which.
var (
	// ErrClientGone: the client closed the connection or cancelled the request.
	ErrClientGone = errors.New("the client went away")
	// ErrClientStalled: the client read nothing for the idle timeout and was cut.
	ErrClientStalled = errors.New("the client read nothing for the idle timeout")
)

// RangeError is a range that does not lie within the content, or that did not parse;
// nothing was recorded.
type RangeError struct {
	// Size is the content's length, for the answer's Content-Range.
	Size int64
	// Err is the parse error, if the range did not parse.
	Err error
}

func (e *RangeError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v (the content has %d bytes)", e.Err, e.Size)
	}
	return fmt.Sprintf("the range asked for is not within the content's %d bytes", e.Size)
}

func (e *RangeError) Unwrap() error { return e.Err }

// errTransferNotResumable names a transfer id the caller cannot continue.
var errTransferNotResumable = &ConflictError{Kind: ConflictTransferNotResumable,
	Msg: "the Transfer-Id names no download transfer of yours on this evidence, or one already delivered: start a new transfer (send no Transfer-Id)"}

// Content is one request of a download transfer: an open range of an exhibit's content.
type Content struct {
	// Body reads the range (it implements io.WriterTo, which writes each segment as it
	// is authenticated). Every segment is authenticated before its bytes are returned;
	// an error wrapping storage.ErrIntegrity means the stored bytes were altered (the
	// failure is already recorded in custody) and the caller must abort the transfer.
	// The caller closes Body, then calls End.
	Body io.ReadCloser
	// Offset and Length are the range served; Size is the whole content's length.
	Offset, Length, Size int64
	// Partial is set when a range was asked for and is served (206).
	Partial bool
	// SHA256 is the registered digest of the whole content; ETag its entity tag.
	SHA256 []byte
	ETag   string
	// TransferID names the transfer, for the client to continue it.
	TransferID string
	// Custody is the download-start or download-resume event of this request.
	Custody api.CustodyReceipt

	s       *Service
	id      string
	p       Principal
	request uint64
	facts   *custody.StorageFacts
	grant   *grantState
	owner   *custody.Party
	once    sync.Once
}

// Download opens one request of a download transfer: a new transfer, or the one
// req.TransferID names, which the caller started. It authorizes the download
// (counting the transfers under way against the grant's limit, but not the one it
// continues), resolves the range, unwraps the data key, reads the sealed header and
// authenticates the range's first segment (one segment, not the whole object: a range
// that starts in altered content fails here, as an integrity failure, with nothing
// else recorded), and only then records a download-start (a new transfer reserves one of the grant's
// downloads) or download-resume event; so a refusal, an unsatisfiable range
// (*RangeError) or a key manager that cannot serve costs the grant nothing.
//
// The exhibit's lock is held for that, not while bytes flow. The caller streams Body
// and then calls End, which records whether the transfer was delivered.
func (s *Service) Download(ctx context.Context, p Principal, id string, req DownloadRequest) (*Content, error) {
	if req.TransferID != "" && !custody.ValidTransferID(req.TransferID) {
		return nil, invalid("invalid Transfer-Id: want \"tr-\" followed by 26 letters a-z or digits 2-7")
	}
	var c *Content
	_, err := change(ctx, s, id, func() (_ api.CustodyReceipt, err error) {
		c = nil
		acc := access{action: policy.ActionDownload, locked: true, transfer: req.TransferID}
		st, d, err := s.authorized(ctx, id, p, acc)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		c, err = s.openTransfer(ctx, st, d, p, req)
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		return c.Custody, nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// openTransfer does the work of Download once the caller is authorized.
func (s *Service) openTransfer(ctx context.Context, st *state, d policy.Decision, p Principal, req DownloadRequest) (*Content, error) {
	now := s.cfg.Now()
	var t *transferState
	if req.TransferID != "" {
		if t = st.transfer(req.TransferID); t == nil || !t.ownedBy(p) || t.delivered {
			return nil, errTransferNotResumable
		}
	}
	grant, err := s.transferGrant(ctx, st, d, p, t, now)
	if err != nil {
		return nil, err
	}
	reg := st.register
	sum, _ := hex.DecodeString(reg.Exhibit.SHA256)
	c := &Content{Offset: 0, Length: reg.Exhibit.Size, Size: reg.Exhibit.Size, SHA256: sum, ETag: api.ContentETag(sum),
		s: s, id: st.id(), p: p, grant: grant, owner: st.ownerParty()}
	if req.RangeErr != nil {
		return nil, &RangeError{Size: c.Size, Err: req.RangeErr}
	}
	if req.Range != nil && (req.IfRange == "" || api.IfRangeMatches(req.IfRange, c.ETag)) {
		off, n, ok := req.Range.Resolve(c.Size)
		if !ok {
			return nil, &RangeError{Size: c.Size}
		}
		c.Offset, c.Length, c.Partial = off, n, true
	}
	sealed, err := s.sealedOf(ctx, st)
	if err != nil {
		return nil, err
	}
	c.facts = storageFacts(sealed)
	// Unwrap the data key and read the header before anything is recorded: a key
	// manager that cannot serve must not cost the grant a download that sends nothing.
	// The first segment of the range is read now too: a range that starts in altered
	// content fails with a status, before an answer starts (and before it is recorded).
	pl, err := s.sealer.OpenRange(ctx, sealed, []byte(c.id), c.Offset, c.Length)
	if err == nil {
		if err = pl.Start(); err != nil {
			pl.Close()
		}
	}
	if err != nil {
		if errors.Is(err, storage.ErrIntegrity) {
			s.integrityFailure(ctx, st, p, err)
		}
		return nil, err
	}
	if err := s.endLapsed(ctx, st, p, now); err != nil {
		pl.Close()
		return nil, err
	}
	c.TransferID, c.request = req.TransferID, 0
	action := custody.ActionDownloadResume
	if t == nil {
		c.TransferID, action = newTransferID(), custody.ActionDownloadStart
	}
	lease := now.Add(s.transferLease())
	ev := c.event(action, &custody.Transfer{ID: c.TransferID, Offset: c.Offset, Length: c.Length, LeaseUntil: lease.UTC()})
	rc, err := s.record(ctx, st, ev)
	if err != nil {
		pl.Close()
		return nil, err
	}
	c.Custody, c.request = rc, rc.Seq
	c.Body = &contentReader{pl: pl, c: c, ctx: context.WithoutCancel(ctx), lease: lease,
		renewAt: now.Add(s.transferLease() / 2)}
	return c, nil
}

// transferGrant returns the grant a download runs under: the one the policy allowed
// it under, or, for a transfer that continues, the grant it started under, which must
// allow it too. nil for the owner.
func (s *Service) transferGrant(ctx context.Context, st *state, d policy.Decision, p Principal, t *transferState, now time.Time) (*grantState, error) {
	if t == nil || t.grant == "" || (d.Grant != nil && d.Grant.ID == t.grant) {
		if d.Grant == nil {
			return nil, nil
		}
		return st.grantByID(d.Grant.ID), nil
	}
	d = s.cfg.Policy.DecideGrant(p.policy(), policy.ActionDownload, st.policyEvidence(now, t.id), t.grant, now)
	if !d.Allow {
		s.audit(ctx, p, policy.ActionDownload, st.id(), d)
		return nil, &DeniedError{Action: string(policy.ActionDownload), Policies: d.Policies, Reason: denialReason(policy.ActionDownload, d)}
	}
	return st.grantByID(t.grant), nil
}

// endLapsed records a download-abandon event for every transfer whose reservation
// lapsed with a request open: the gateway serving it stopped (a crash) without
// recording how it ended. The reservation ended when it lapsed; the event says so.
func (s *Service) endLapsed(ctx context.Context, st *state, p Principal, now time.Time) error {
	for _, t := range st.lapsed(now) {
		ev := custody.Event{Action: custody.ActionDownloadAbandon, Actor: p.party(),
			Transfer: &custody.Transfer{ID: t.id, Request: t.request},
			Detail:   fmt.Sprintf("the reservation lapsed at %s with the request open: the gateway serving it stopped", t.lease.UTC().Format(time.RFC3339))}
		if g := st.grantByID(t.grant); g != nil {
			ev.Grant, ev.LegalBasis = &g.Grant, g.LegalBasis
		}
		if _, err := s.record(ctx, st, ev); err != nil {
			return err
		}
		t.open = false
	}
	return nil
}

func (s *Service) transferLease() time.Duration {
	if s.cfg.TransferLease > 0 {
		return s.cfg.TransferLease
	}
	return defaultTransferLease
}

// event returns a custody event of this request's transfer.
func (c *Content) event(a custody.Action, tr *custody.Transfer) custody.Event {
	ev := custody.Event{Action: a, Actor: c.p.party(), Transfer: tr}
	if c.grant != nil {
		ev.Grant, ev.LegalBasis, ev.Counterparty = &c.grant.Grant, c.grant.LegalBasis, c.owner
	}
	return ev
}

// End records how the request ended: sent is how many bytes of the range reached the
// client, cause nil if the whole range did. A request that sent the content's last
// byte delivers the transfer (download-deliver: it now counts against the grant); one
// that failed abandons it (download-abandon, saying why: the reservation is released,
// and the client may resume the transfer later); one that sent a whole range short of
// the end records nothing, and the transfer holds its reservation for the client's
// next range. End is safe to call more than once; the first call counts. It records
// on a context that the request's end does not cancel.
func (c *Content) End(ctx context.Context, sent int64, cause error) {
	c.once.Do(func() { c.end(context.WithoutCancel(ctx), sent, cause) })
}

func (c *Content) end(ctx context.Context, sent int64, cause error) {
	complete := cause == nil && sent == c.Length
	if complete && c.Offset+c.Length < c.Size {
		return
	}
	tr := &custody.Transfer{ID: c.TransferID, Request: c.request, Sent: sent}
	ev := c.event(custody.ActionDownloadAbandon, tr)
	if complete {
		ev.Action, ev.Storage = custody.ActionDownloadDeliver, c.facts
	} else {
		ev.Detail = abandonReason(sent, c.Length, cause)
	}
	s := c.s
	err := s.withChain(ctx, c.id, func() error {
		st, err := s.load(ctx, c.id)
		if err != nil {
			return err
		}
		_, err = s.record(ctx, st, ev)
		return err
	})
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "recording the end of a download request", "evidence_id", c.id,
			"transfer", c.TransferID, "action", string(ev.Action), "err", err)
	}
}

// abandonReason says, for the custody record, why a request ended without delivering.
// It names the kind of failure only: details of the gateway's own failures are in its
// log, not in custody events that partners and courts read.
func abandonReason(sent, length int64, cause error) string {
	why := "the gateway could not send it"
	switch {
	case cause == nil:
		why = "it ended early"
	case errors.Is(cause, ErrIntegrity):
		why = "the stored content failed its integrity check"
	case errors.Is(cause, ErrClientStalled):
		why = ErrClientStalled.Error()
	case errors.Is(cause, ErrClientGone), errors.Is(cause, context.Canceled):
		why = ErrClientGone.Error()
	}
	return fmt.Sprintf("the request ended after %d of its %d bytes: %s", sent, length, why)
}

// contentReader reads a request's range: it counts the bytes served, renews the
// transfer's reservation while it sends, and records an integrity failure met while
// reading (stored bytes altered after the request opened).
type contentReader struct {
	pl      *storage.Plaintext
	c       *Content
	ctx     context.Context
	sent    int64
	lease   time.Time
	renewAt time.Time
	once    sync.Once
}

func (r *contentReader) Read(b []byte) (int, error) {
	if err := r.renew(); err != nil {
		return 0, err
	}
	n, err := r.pl.Read(b)
	r.served(n)
	return n, r.failed(err)
}

// WriteTo writes each authenticated segment to w as it comes (io.CopyBuffer uses it).
func (r *contentReader) WriteTo(w io.Writer) (int64, error) {
	n, err := r.pl.WriteTo(servedWriter{r, w})
	return n, r.failed(err)
}

// servedWriter is the writer WriteTo hands the plaintext to.
type servedWriter struct {
	r *contentReader
	w io.Writer
}

func (s servedWriter) Write(b []byte) (int, error) {
	if err := s.r.renew(); err != nil {
		return 0, err
	}
	n, err := s.w.Write(b)
	s.r.served(n)
	return n, err
}

func (r *contentReader) served(n int) {
	r.sent += int64(n)
	r.c.s.metrics.bytesOut.Add(float64(n))
	if n > 0 {
		r.c.s.step(StepSending)
	}
}

// failed records the integrity failure behind err, once.
func (r *contentReader) failed(err error) error {
	if errors.Is(err, storage.ErrIntegrity) {
		r.once.Do(func() {
			s := r.c.s
			_ = s.withChain(r.ctx, r.c.id, func() error {
				st, lerr := s.load(r.ctx, r.c.id)
				if lerr == nil {
					s.integrityFailure(r.ctx, st, r.c.p, err)
				}
				return lerr
			})
		})
	}
	return err
}

// errLeaseLapsed cuts a request whose reservation could not be renewed before it
// lapsed: past that, another transfer may take the download it held.
var errLeaseLapsed = errors.New("the transfer's reservation lapsed and could not be renewed")

// renew records a download-progress event that extends the reservation once half of
// it is gone. A renewal that fails is tried again every renewRetry; the request is cut
// once the reservation lapses unrenewed.
func (r *contentReader) renew() error {
	s := r.c.s
	now := s.cfg.Now()
	if now.Before(r.renewAt) {
		return nil
	}
	lease := now.Add(s.transferLease())
	ev := r.c.event(custody.ActionDownloadProgress, &custody.Transfer{ID: r.c.TransferID, Request: r.c.request,
		Sent: r.sent, LeaseUntil: lease.UTC()})
	err := s.withChain(r.ctx, r.c.id, func() error {
		st, err := s.load(r.ctx, r.c.id)
		if err != nil {
			return err
		}
		_, err = s.record(r.ctx, st, ev)
		return err
	})
	if err == nil {
		r.lease, r.renewAt = lease, now.Add(s.transferLease()/2)
		return nil
	}
	s.cfg.Logger.WarnContext(r.ctx, "renewing a download's reservation", "evidence_id", r.c.id, "transfer", r.c.TransferID, "err", err)
	if !now.Before(r.lease) {
		return fmt.Errorf("%w: %w", errLeaseLapsed, err)
	}
	r.renewAt = now.Add(renewRetry)
	return nil
}

func (r *contentReader) Close() error { return r.pl.Close() }

// integrityFailure records that stored content, or a stored event, failed its
// integrity check.
func (s *Service) integrityFailure(ctx context.Context, st *state, p Principal, cause error) {
	s.metrics.integrityFail.Inc()
	ctx = context.WithoutCancel(ctx)
	_, err := s.record(ctx, st, custody.Event{Action: custody.ActionIntegrityFailure,
		Actor: p.party(), Storage: st.register.Storage, Detail: cause.Error()})
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "recording integrity failure", "evidence_id", st.id(), "err", err)
	}
}
