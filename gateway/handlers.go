package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// Input bounds.
const (
	maxDescription = 1024
	maxLegalBasis  = 512
	maxReason      = 512
	// maxGrantLifetime bounds how far in the future a grant may expire.
	maxGrantLifetime = 5 * 365 * 24 * time.Hour
)

func (s *Server) whoami(w http.ResponseWriter, _ *http.Request, p Principal) error {
	writeJSON(w, http.StatusOK, map[string]string{"agency": p.Agency, "jurisdiction": p.Jurisdiction, "person": p.Person, "role": p.Role})
	return nil
}

func (s *Server) trustRoot(w http.ResponseWriter, r *http.Request, _ Principal) error {
	tr := s.TrustRoot
	if s.CurrentTrustRoot != nil {
		var err error
		if tr, err = s.CurrentTrustRoot(r.Context()); err != nil {
			return err
		}
	}
	b, err := tr.Marshal()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b)
	return err
}

func (s *Server) show(w http.ResponseWriter, r *http.Request, p Principal) error {
	st, _, err := s.authorized(r.Context(), mux.Vars(r)["id"], p, policy.ActionView)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(st, p))
	return nil
}

// view renders the state for p: the owner sees every grant, others only their own.
func (s *Server) view(st *evidenceState, p Principal) api.EvidenceView {
	reg := st.register
	v := api.EvidenceView{
		EvidenceID: reg.EvidenceID, CaseID: reg.CaseID, Description: reg.Exhibit.Description,
		SHA256: reg.Exhibit.SHA256, Size: reg.Exhibit.Size, Owner: st.owner(), Jurisdiction: reg.Actor.Jurisdiction,
		RegisteredAt: reg.Time, EventCount: len(st.chain.Records), Grants: []api.GrantView{},
	}
	for _, g := range st.grants {
		if p.Agency == st.owner() || g.To == p.Agency {
			v.Grants = append(v.Grants, s.grantView(g))
		}
	}
	return v
}

func (s *Server) grantView(g *grantState) api.GrantView {
	return api.GrantView{
		GrantID: g.ID, To: g.To, LegalBasis: g.LegalBasis, Expires: g.Expires, MaxDownloads: g.MaxDownloads,
		Downloads: g.Downloads, ViewOnly: g.ViewOnly, Accepted: g.Accepted, Revoked: g.Revoked, State: g.status(s.Now()),
	}
}

func (s *Server) history(w http.ResponseWriter, r *http.Request, p Principal) error {
	st, _, err := s.authorized(r.Context(), mux.Vars(r)["id"], p, policy.ActionView)
	if err != nil {
		return err
	}
	h := api.History{EvidenceID: st.register.EvidenceID, Events: []api.HistoryEvent{}}
	// The owner and courts see the whole chain; a partner sees its own part of it.
	h.Partial = p.Agency != st.owner() && p.Role != RoleCourt
	for _, rec := range st.chain.Records {
		ev := rec.Event
		if h.Partial && ev.Seq != 0 && !concerns(ev, p.Agency) {
			continue
		}
		h.Events = append(h.Events, api.HistoryEvent{Seq: ev.Seq, Action: string(ev.Action), Time: ev.Time,
			Actor: ev.Actor, Counterparty: ev.Counterparty, LegalBasis: ev.LegalBasis, Grant: ev.Grant, Detail: ev.Detail,
			Digest: rec.Digest, LogIndex: rec.LogIndex, KeyID: rec.Envelope.Signatures[0].KeyID})
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// concerns reports whether an agency took part in an event.
func concerns(ev custody.Event, agency string) bool {
	return ev.Actor.Agency == agency || (ev.Counterparty != nil && ev.Counterparty.Agency == agency) ||
		(ev.Grant != nil && ev.Grant.To == agency)
}

// decodeJSON reads a bounded JSON body with no unknown fields.
func decodeJSON(r *http.Request, w http.ResponseWriter, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return invalid("malformed JSON body: %v", err)
	}
	if dec.More() {
		return invalid("malformed JSON body: trailing data")
	}
	return nil
}

func checkText(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid("%s is required", field)
	case len(v) > max:
		return invalid("%s is longer than %d bytes", field, max)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' }):
		return invalid("%s must be UTF-8 text without control characters", field)
	}
	return nil
}

func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return prefix + strings.ToLower(enc)
}

// NewEvidenceID returns a fresh random evidence id (128 bits).
func NewEvidenceID() string { return newID("ev-", 16)[:3+26] }

func newGrantID() string { return newID("gr-", 10)[:3+16] }

func (s *Server) share(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req api.ShareRequest
	if err := decodeJSON(r, w, &req); err != nil {
		return err
	}
	to, ok := s.Config.Agency(req.To)
	switch {
	case !ok:
		return invalid("unknown agency %q", req.To)
	case req.To == p.Agency:
		return invalid("an agency cannot share with itself")
	case !req.Expires.After(s.Now()):
		return invalid("expires must be in the future")
	case req.Expires.After(s.Now().Add(maxGrantLifetime)):
		return invalid("expires is more than %d days away", int(maxGrantLifetime.Hours()/24))
	case req.MaxDownloads < 0:
		return invalid("max_downloads must not be negative")
	}
	if err := checkText("legal_basis", req.LegalBasis, maxLegalBasis, true); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	return s.change(w, r, id, http.StatusCreated, func() (any, error) {
		st, _, err := s.authorized(r.Context(), id, p, policy.ActionShare)
		if err != nil {
			return nil, err
		}
		g := custody.Grant{ID: newGrantID(), To: to.ID, LegalBasis: req.LegalBasis, Expires: req.Expires.UTC(),
			MaxDownloads: req.MaxDownloads, ViewOnly: req.ViewOnly}
		rc, err := s.record(r.Context(), st, custody.Event{Action: custody.ActionShare, Actor: party(p),
			Counterparty: &custody.Party{Agency: to.ID, Jurisdiction: to.Jurisdiction}, LegalBasis: g.LegalBasis, Grant: &g})
		if err != nil {
			return nil, err
		}
		return api.GrantResult{Grant: s.grantView(&grantState{Grant: g}), Custody: rc}, nil
	})
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req api.RevokeRequest
	if err := decodeJSON(r, w, &req); err != nil {
		return err
	}
	if err := checkText("reason", req.Reason, maxReason, false); err != nil {
		return err
	}
	id, gid := mux.Vars(r)["id"], mux.Vars(r)["grant"]
	if !custody.ValidGrantID(gid) {
		return invalid("invalid grant id")
	}
	return s.change(w, r, id, http.StatusOK, func() (any, error) {
		st, _, err := s.authorized(r.Context(), id, p, policy.ActionRevoke)
		if err != nil {
			return nil, err
		}
		g := st.grantByID(gid)
		if g == nil {
			return nil, errGrantGone
		}
		if g.Revoked {
			return nil, &badRequest{status: http.StatusConflict, kind: "already-revoked", msg: "the grant is already revoked"}
		}
		to, _ := s.Config.Agency(g.To)
		rc, err := s.record(r.Context(), st, custody.Event{Action: custody.ActionRevoke, Actor: party(p),
			Counterparty: &custody.Party{Agency: g.To, Jurisdiction: to.Jurisdiction}, LegalBasis: g.LegalBasis,
			Grant: &g.Grant, Detail: req.Reason})
		if err != nil {
			return nil, err
		}
		g.Revoked = true
		return api.GrantResult{Grant: s.grantView(g), Custody: rc}, nil
	})
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request, p Principal) error {
	var req api.AcceptRequest
	if err := decodeJSON(r, w, &req); err != nil {
		return err
	}
	if !custody.ValidGrantID(req.GrantID) {
		return invalid("invalid grant id")
	}
	id := mux.Vars(r)["id"]
	return s.change(w, r, id, http.StatusOK, func() (any, error) {
		st, d, err := s.authorized(r.Context(), id, p, policy.ActionAccept)
		if err != nil {
			return nil, err
		}
		g := st.grantByID(req.GrantID)
		if g == nil || g.To != p.Agency || d.Grant == nil || d.Grant.ID != g.ID {
			return nil, &badRequest{status: http.StatusConflict, kind: "grant-not-acceptable",
				msg: "that grant is not an active, unaccepted grant to your agency"}
		}
		rcpt, err := checkReceipt(req.Receipt, p, id, g.ID, st.register.Exhibit.SHA256)
		if err != nil {
			return nil, err
		}
		rc, err := s.record(r.Context(), st, custody.Event{Action: custody.ActionAccept, Actor: party(p),
			Counterparty: &custody.Party{Agency: st.owner(), Jurisdiction: st.register.Actor.Jurisdiction},
			LegalBasis:   g.LegalBasis, Grant: &g.Grant, Receipt: rcpt})
		if err != nil {
			return nil, err
		}
		g.Accepted = true
		return api.GrantResult{Grant: s.grantView(g), Custody: rc}, nil
	})
}

// checkReceipt verifies that the partner signed, with its client certificate's key, a
// receipt for exactly this evidence, grant and content digest.
func checkReceipt(sr api.SignedReceipt, p Principal, id, grantID, sha string) (*custody.Receipt, error) {
	if len(sr.Statement) == 0 || len(sr.Statement) > 4096 {
		return nil, invalid("receipt statement missing or too long")
	}
	var st api.ReceiptStatement
	dec := json.NewDecoder(bytes.NewReader(sr.Statement))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, invalid("malformed receipt statement: %v", err)
	}
	if st.Type != api.ReceiptStatementType || st.EvidenceID != id || st.GrantID != grantID || st.SHA256 != sha {
		return nil, invalid("the receipt statement does not name this evidence, grant and content digest")
	}
	rc := &custody.Receipt{Statement: sr.Statement, Signature: sr.Signature, Certificate: p.Cert.Raw}
	if err := rc.Verify(); err != nil {
		return nil, invalid("the receipt signature does not verify with your client certificate's key")
	}
	return rc, nil
}

// maxConsistencyFrom bounds the consistency proofs one bundle request may ask for.
const maxConsistencyFrom = 16

// consistencyFrom parses ?consistency_from=N[,M...]: tree sizes of checkpoints the
// caller already holds.
func consistencyFrom(r *http.Request) ([]uint64, error) {
	v := r.URL.Query().Get("consistency_from")
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) > maxConsistencyFrom {
		return nil, invalid("at most %d sizes in consistency_from", maxConsistencyFrom)
	}
	var sizes []uint64
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || n == 0 {
			return nil, invalid("consistency_from must list positive tree sizes")
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func (s *Server) bundle(w http.ResponseWriter, r *http.Request, p Principal) error {
	id := mux.Vars(r)["id"]
	from, err := consistencyFrom(r)
	if err != nil {
		return err
	}
	if len(from) > 0 {
		// Checked before the export is recorded; the log only grows.
		size, err := s.logSize(r.Context())
		if err != nil {
			return err
		}
		for _, f := range from {
			if f > size {
				return invalid("consistency_from %d is beyond the log's size %d", f, size)
			}
		}
	}
	var out []byte
	var rc api.CustodyReceipt
	err = s.withChain(r.Context(), id, func() error {
		st, _, err := s.authorized(r.Context(), id, p, policy.ActionBundle)
		if err != nil {
			return err
		}
		if rc, err = s.record(r.Context(), st, custody.Event{Action: custody.ActionBundleExport, Actor: party(p)}); err != nil {
			return err
		}
		chain, err := s.Ledger.Load(r.Context(), id)
		if err != nil {
			return err
		}
		b, err := s.Ledger.Bundle(r.Context(), chain, from...)
		if errors.Is(err, ledger.ErrBadSize) {
			return invalid("%v", err)
		}
		if err != nil {
			return err
		}
		out, err = b.Marshal()
		return err
	})
	if err != nil {
		return err
	}
	setCustodyHeader(w, rc)
	w.Header().Set("Content-Type", custody.BundleMediaType)
	_, err = w.Write(out)
	return err
}

// setCustodyHeader carries the custody receipt of a response whose body is not JSON.
func setCustodyHeader(w http.ResponseWriter, rc api.CustodyReceipt) {
	v, err := api.FormatCustodyEvent(rc)
	if err == nil {
		w.Header().Set(api.HeaderCustodyEvent, v)
	}
}
