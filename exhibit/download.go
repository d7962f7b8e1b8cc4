package exhibit

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"sync"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// Content is an open download of an exhibit's content.
type Content struct {
	// Body reads the plaintext. Every segment is authenticated before its bytes are
	// returned; a Read error wrapping storage.ErrIntegrity means the stored bytes were
	// altered (the failure is already recorded in custody) and the caller must abort
	// the transfer. The caller closes Body.
	Body io.ReadCloser
	// Size is the plaintext length; SHA256 its registered digest.
	Size   int64
	SHA256 []byte
	// Custody is the download event.
	Custody api.CustodyReceipt
}

// Download checks the stored ciphertext whole before it returns, opens the plaintext
// (unwrapping its data key) and only then records the download. Stored bytes that fail
// their digest or their authentication are recorded as an integrity-failure event, and
// no plaintext is returned.
func (s *Service) Download(ctx context.Context, p Principal, id string) (*Content, error) {
	var (
		sealed storage.Sealed
		plain  io.ReadCloser
	)
	rc, err := change(ctx, s, id, func() (api.CustodyReceipt, error) {
		st, d, err := s.authorized(ctx, id, p, access{action: policy.ActionDownload, locked: true})
		if err != nil {
			return api.CustodyReceipt{}, err
		}
		if sealed, err = s.sealedOf(ctx, st); err != nil {
			return api.CustodyReceipt{}, err
		}
		if err := s.sealer.Verify(ctx, sealed); err != nil {
			if errors.Is(err, storage.ErrIntegrity) {
				s.integrityFailure(ctx, st, p, err)
			}
			return api.CustodyReceipt{}, err
		}
		// Unwrap the data key before the download is recorded: a key manager that
		// cannot serve it must not cost the grant a download that sends nothing.
		// Open reads the stream header, which may have been altered since Verify.
		pl, err := s.sealer.Open(ctx, sealed, []byte(id))
		if err != nil {
			if errors.Is(err, storage.ErrIntegrity) {
				s.integrityFailure(ctx, st, p, err)
			}
			return api.CustodyReceipt{}, err
		}
		ev := custody.Event{Action: custody.ActionDownload, Actor: p.party(), Storage: storageFacts(sealed)}
		if d.Grant != nil {
			if g := st.grantByID(d.Grant.ID); g != nil {
				ev.Grant, ev.LegalBasis, ev.Counterparty = &g.Grant, g.LegalBasis, st.ownerParty()
			}
		}
		rc, err := s.record(ctx, st, ev)
		if err != nil {
			pl.Close()
			return api.CustodyReceipt{}, err
		}
		plain = pl
		return rc, nil
	})
	if err != nil {
		return nil, err
	}
	sum, _ := hex.DecodeString(sealed.PlainSHA256)
	body := &contentReader{ReadCloser: plain, s: s, ctx: context.WithoutCancel(ctx), id: id, p: p}
	return &Content{Body: body, Size: sealed.PlainSize, SHA256: sum, Custody: rc}, nil
}

// contentReader counts the bytes served and records an integrity failure met while
// reading (stored bytes altered between the check and the read).
type contentReader struct {
	io.ReadCloser
	s    *Service
	ctx  context.Context
	id   string
	p    Principal
	once sync.Once
}

func (c *contentReader) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	c.s.metrics.bytesOut.Add(float64(n))
	if errors.Is(err, storage.ErrIntegrity) {
		c.once.Do(func() {
			_ = c.s.withChain(c.ctx, c.id, func() error {
				st, lerr := c.s.load(c.ctx, c.id)
				if lerr == nil {
					c.s.integrityFailure(c.ctx, st, c.p, err)
				}
				return lerr
			})
		})
	}
	return n, err
}

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
