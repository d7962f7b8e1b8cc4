package policy

import (
	"errors"
	"fmt"
	"slices"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
)

// errNoAgency is reported when a request lacks the agency that every rule
// depends on.
var errNoAgency = errors.New("principal agency or evidence owner is empty")

// A Principal is the authenticated user making a request.
type Principal struct {
	Agency       string // agency id, from the client certificate
	Jurisdiction string
	Person       string // the user's id within the agency
	Role         string // "investigator" or "court"
}

// A Grant shares one piece of evidence with one agency.
type Grant struct {
	ID           string
	To           string    // grantee agency id
	ViewOnly     bool      // metadata and history only, never content
	Expires      time.Time // the grant is active while now is before it; zero = already expired
	MaxDownloads int       // 0 = unlimited
	Downloads    int       // downloads delivered so far
	Reserved     int       // transfers under way, each holding a download until it ends
	Accepted     bool
	Revoked      bool
	// Instrument is the legal instrument the grant was made under, in answer to a
	// request; "" for a grant whose legal basis is free text.
	Instrument string
}

// Evidence is what the policies need to know about a piece of evidence.
type Evidence struct {
	ID           string
	Owner        string // agency id
	Jurisdiction string
	Grants       []Grant // every grant ever issued, including expired and revoked ones
}

// An Action is something a principal does with evidence. Its string is the
// id of the Cedar Action entity the policies see.
type Action string

const (
	ActionRegister Action = "register" // register new evidence (the resource is the new item)
	ActionView     Action = "view"     // read metadata and custody history
	ActionBundle   Action = "bundle"   // build a court bundle (events and proofs)
	ActionShare    Action = "share"    // issue a grant to another agency
	ActionRevoke   Action = "revoke"   // revoke a grant
	ActionAccept   Action = "accept"   // accept a grant with a signed receipt
	ActionDownload Action = "download" // download the content
	ActionHold     Action = "hold"     // set or release a legal hold
	ActionReceive  Action = "receive"  // record the signed receipt of a download
	ActionDispose  Action = "dispose"  // destroy the content after its retention (DecideDisposal)
)

// A Decision is the outcome of [Engine.Decide].
type Decision struct {
	Allow bool
	// Visible reports whether the principal may learn that the evidence
	// exists: its agency owns it, was ever granted it, or the action is
	// allowed. When false, callers answer "not found", never "forbidden".
	Visible bool
	// Policies are the @id of the policies that decided: the permits when
	// allowed, the forbids when denied; empty when denied because no permit
	// matched (default deny) or because an evaluation error denied. Sorted.
	Policies []string
	// Grant is the grant under which the action is allowed, if any.
	Grant *Grant
	// Errors lists policies whose evaluation failed, as "id: message",
	// sorted. Any error denies the evaluation it occurred in (fail closed).
	Errors []string
	// Reasons are the @reason annotations of the deciding policies, in the order of
	// Policies: what a denial lacks, in words a caller can act on.
	Reasons []string
}

// Decide reports whether p may perform a on ev at time now. It does no I/O.
//
// When ev has grants to p's agency, the policies are evaluated once per such
// grant, active ones (not revoked, now before Expires) first, until one
// evaluation allows; otherwise once with no grant. A denial reports the
// evaluation of the first grant tried.
func (e *Engine) Decide(p Principal, a Action, ev Evidence, now time.Time) Decision {
	return e.decide(p, a, ev, grantsTo(ev.Grants, p.Agency, now), now, "")
}

// DecideDisposal is Decide for ActionDispose, with the authority the disposal rests
// on (a court order, the retention schedule) in the context as authority.
func (e *Engine) DecideDisposal(p Principal, ev Evidence, authority string, now time.Time) Decision {
	return e.decide(p, ActionDispose, ev, grantsTo(ev.Grants, p.Agency, now), now, authority)
}

// DecideGrant is Decide for an action under one named grant, such as accepting that
// grant: the policies are evaluated with that grant only, if it is a grant to p's
// agency, and with no grant otherwise. Whether p may see the evidence at all is decided
// as by Decide, from every grant to its agency.
func (e *Engine) DecideGrant(p Principal, a Action, ev Evidence, grantID string, now time.Time) Decision {
	var named []Grant
	for _, g := range ev.Grants {
		if g.ID == grantID && g.To == p.Agency {
			named = append(named, g)
		}
	}
	d := e.decide(p, a, ev, named, now, "")
	d.Visible = d.Visible || len(grantsTo(ev.Grants, p.Agency, now)) > 0
	return d
}

func (e *Engine) decide(p Principal, a Action, ev Evidence, grants []Grant, now time.Time, authority string) Decision {
	if p.Agency == "" || ev.Owner == "" {
		return Decision{Errors: []string{errNoAgency.Error()}}
	}
	visible := p.Agency == ev.Owner || len(grants) > 0
	entities := entitiesFor(p, ev)
	e.addInstruments(entities, grants)
	req := cedar.Request{
		Principal: personUID(p),
		Action:    cedar.NewEntityUID("Action", cedar.String(a)),
		Resource:  cedar.NewEntityUID("Evidence", cedar.String(ev.ID)),
	}
	if len(grants) == 0 {
		req.Context = contextFor(nil, now, authority)
		return e.evaluate(entities, req, nil, visible)
	}
	var first Decision
	for i := range grants {
		req.Context = contextFor(&grants[i], now, authority)
		d := e.evaluate(entities, req, &grants[i], visible)
		if d.Allow {
			return d
		}
		if i == 0 {
			first = d
		}
	}
	return first
}

// evaluate runs the policies on one request; g is the grant in its context.
func (e *Engine) evaluate(entities cedar.EntityMap, req cedar.Request, g *Grant, visible bool) Decision {
	decision, diag := cedar.Authorize(e.policies, entities, req)
	var d Decision
	for _, r := range diag.Reasons {
		d.Policies = append(d.Policies, string(r.PolicyID))
	}
	slices.Sort(d.Policies)
	for _, id := range d.Policies {
		if r := e.policies.Get(cedar.PolicyID(id)).Annotations()["reason"]; r != "" {
			d.Reasons = append(d.Reasons, string(r))
		}
	}
	for _, de := range diag.Errors {
		d.Errors = append(d.Errors, fmt.Sprintf("%s: %s", de.PolicyID, de.Message))
	}
	slices.Sort(d.Errors)
	d.Allow = decision == cedar.Allow && len(d.Errors) == 0
	if !d.Allow && decision == cedar.Allow {
		d.Policies, d.Reasons = nil, nil // the permits did not decide: the errors did
	}
	if d.Allow && g != nil {
		c := *g
		d.Grant = &c
	}
	d.Visible = visible || d.Allow
	return d
}

// grantsTo returns the grants to agency, active ones first, otherwise in
// their original order.
func grantsTo(all []Grant, agency string, now time.Time) []Grant {
	var active, inactive []Grant
	for _, g := range all {
		switch {
		case g.To != agency:
		case !g.Revoked && now.Before(g.Expires):
			active = append(active, g)
		default:
			inactive = append(inactive, g)
		}
	}
	return append(active, inactive...)
}

func personUID(p Principal) cedar.EntityUID {
	return cedar.NewEntityUID("Person", cedar.String(p.Person))
}

func agencyUID(id string) cedar.EntityUID {
	return cedar.NewEntityUID("Agency", cedar.String(id))
}

// entitiesFor builds the entities the policies see: the principal (a member
// of its agency), the evidence, and both agencies.
func entitiesFor(p Principal, ev Evidence) cedar.EntityMap {
	person := personEntity(p)
	evidence := cedar.Entity{
		UID: cedar.NewEntityUID("Evidence", cedar.String(ev.ID)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"owner":        agencyUID(ev.Owner),
			"jurisdiction": cedar.String(ev.Jurisdiction),
		}),
	}
	m := cedar.EntityMap{person.UID: person, evidence.UID: evidence}
	for _, id := range []string{p.Agency, ev.Owner} {
		m[agencyUID(id)] = cedar.Entity{UID: agencyUID(id)}
	}
	return m
}

// personEntity is the principal: a member of its agency.
func personEntity(p Principal) cedar.Entity {
	return cedar.Entity{
		UID:     personUID(p),
		Parents: cedar.NewEntityUIDSet(agencyUID(p.Agency)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"agency":       agencyUID(p.Agency),
			"jurisdiction": cedar.String(p.Jurisdiction),
			"role":         cedar.String(p.Role),
		}),
	}
}

// contextFor builds the request context for grant g, or for no grant when g
// is nil, and the authority a disposal invokes ("" for other actions). Every
// attribute is always present, so that policies never fail on a missing one;
// with no grant, exists is false and the rest are zero.
//
// downloads counts what holds the grant's limit: the downloads delivered plus the
// transfers under way (reserved), so that a policy that compares downloads with
// max_downloads never lets more transfers run than the limit allows; delivered and
// reserved are the two parts.
//
// Times are Unix seconds, truncated: a comparison now < expires on them
// never holds when the real instants compare otherwise, so truncation can
// only end a grant up to a second early, never extend it.
func contextFor(g *Grant, now time.Time, authority string) cedar.Record {
	var zero Grant
	exists := g != nil
	if !exists {
		g = &zero
	}
	expires := int64(0)
	if exists {
		expires = g.Expires.Unix()
	}
	grant := cedar.NewRecord(cedar.RecordMap{
		"exists":         cedar.Boolean(exists),
		"has_instrument": cedar.Boolean(g.Instrument != ""),
		"instrument":     instrumentUID(g.Instrument),
		"id":             cedar.String(g.ID),
		"grantee":        agencyUID(g.To),
		"revoked":        cedar.Boolean(g.Revoked),
		"accepted":       cedar.Boolean(g.Accepted),
		"view_only":      cedar.Boolean(g.ViewOnly),
		"expires":        cedar.Long(expires),
		"downloads":      cedar.Long(int64(g.Downloads + g.Reserved)),
		"delivered":      cedar.Long(int64(g.Downloads)),
		"reserved":       cedar.Long(int64(g.Reserved)),
		"max_downloads":  cedar.Long(int64(g.MaxDownloads)),
	})
	return cedar.NewRecord(cedar.RecordMap{
		"now":       cedar.Long(now.Unix()),
		"grant":     grant,
		"authority": cedar.String(authority),
	})
}
