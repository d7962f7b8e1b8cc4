package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
)

// authorized loads an exhibit's state and asks the policy engine whether p may do a.
// Evidence p may not see is errNotFound, exactly like evidence that does not exist;
// every denial is audited with the deciding policies.
func (s *Server) authorized(ctx context.Context, id string, p Principal, a policy.Action) (*evidenceState, policy.Decision, error) {
	if !custody.ValidEvidenceID(id) {
		return nil, policy.Decision{}, invalid("invalid evidence id: want \"ev-\" followed by 26 letters a-z or digits 2-7")
	}
	chain, err := s.Ledger.Load(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		s.audit(ctx, p, a, id, policy.Decision{})
		return nil, policy.Decision{}, errNotFound
	}
	if err != nil {
		return nil, policy.Decision{}, fmt.Errorf("loading custody chain of %s: %w", id, err)
	}
	st := fold(chain)
	d := s.Policy.Decide(policyPrincipal(p), a, st.policyEvidence(), s.Now())
	if !d.Allow {
		s.audit(ctx, p, a, id, d)
		if !d.Visible {
			return nil, d, errNotFound
		}
		return nil, d, &denied{action: string(a), policies: d.Policies, reason: denialReason(a, d)}
	}
	return st, d, nil
}

func policyPrincipal(p Principal) policy.Principal {
	return policy.Principal{Agency: p.Agency, Jurisdiction: p.Jurisdiction, Person: p.Person, Role: p.Role}
}

// audit logs a denial with the policies that decided it.
func (s *Server) audit(ctx context.Context, p Principal, a policy.Action, id string, d policy.Decision) {
	s.metrics.denials.WithLabelValues(string(a)).Inc()
	policies := d.Policies
	if len(policies) == 0 {
		policies = []string{"default-deny"}
	}
	s.Logger.WarnContext(ctx, "request denied", "audit", true, "principal", p, "action", string(a),
		"evidence_id", id, "visible", d.Visible, "policies", policies, "policy_errors", d.Errors)
}

// denialReason explains a denial to a caller who may know the evidence exists.
func denialReason(a policy.Action, d policy.Decision) string {
	if len(d.Policies) == 0 {
		return fmt.Sprintf("%s is not permitted: no policy allows it", a)
	}
	return fmt.Sprintf("%s is not permitted by policy %s", a, strings.Join(d.Policies, ", "))
}

// record appends ev to the state's chain and returns the receipt.
func (s *Server) record(ctx context.Context, st *evidenceState, ev custody.Event) (api.CustodyReceipt, error) {
	ev.EvidenceID, ev.CaseID = st.register.EvidenceID, st.register.CaseID
	rec, err := s.Ledger.Append(ctx, st.chain, "", ev)
	if err != nil {
		return api.CustodyReceipt{}, err
	}
	s.metrics.events.WithLabelValues(string(ev.Action)).Inc()
	return receipt(rec), nil
}

func receipt(rec ledger.Record) api.CustodyReceipt {
	cp := rec.Proof
	if i := strings.Index(cp, "\n\n"); i >= 0 {
		cp = cp[i+2:]
	}
	return api.CustodyReceipt{
		EvidenceID: rec.Event.EvidenceID, Seq: rec.Event.Seq, Action: string(rec.Event.Action), Digest: rec.Digest,
		Envelope: rec.Envelope, LogIndex: rec.LogIndex, Proof: rec.Proof, Checkpoint: cp,
	}
}

func party(p Principal) custody.Party {
	return custody.Party{Agency: p.Agency, Jurisdiction: p.Jurisdiction, Person: p.Person, Role: p.Role}
}

// withChain runs f under the exhibit's lock, re-reading the chain if another replica
// appended to it first.
func (s *Server) withChain(ctx context.Context, id string, f func() error) error {
	unlock := s.locks.lock(id)
	defer unlock()
	var err error
	for range chainRetries {
		if err = f(); !errors.Is(err, ledger.ErrConflict) {
			return err
		}
	}
	return err
}

// change runs f under the exhibit's lock, re-running it if another writer appended to
// the chain first, and answers with its result.
func (s *Server) change(w http.ResponseWriter, r *http.Request, id string, status int, f func() (any, error)) error {
	var res any
	err := s.withChain(r.Context(), id, func() (err error) {
		res, err = f()
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, status, res)
	return nil
}
