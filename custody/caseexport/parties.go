package caseexport

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// Kinds of the uco-core:Relationship nodes of an export (uco-core:kindOfRelationship).
const (
	// KindMemberOf relates a person to the organization it acted for.
	KindMemberOf = "Member_Of"
	// KindHasRole relates a person to its uco-role:Role.
	KindHasRole = "Has_Role"
	// KindHasJurisdiction relates an organization to the uco-location:Location of its
	// legal jurisdiction.
	KindHasJurisdiction = "Has_Jurisdiction"
	// KindGrantedBy relates an authorization to the organization that issued it.
	KindGrantedBy = "Granted_By"
	// KindGrantedTo relates an authorization to the organization that holds it.
	KindGrantedTo = "Granted_To"
)

// party adds the nodes of p (its organization, jurisdiction, person and role) and
// returns the IRI of who acted: the person, or the organization if p names none.
func (g *graph) party(p custody.Party) (string, error) {
	if p.Agency == "" {
		return "", errors.New("names no agency")
	}
	org := g.organization(p.Agency, p.Jurisdiction)
	if p.Person == "" {
		return org, nil
	}
	person := nodeID("person", p.Agency, p.Person)
	g.add(Node{
		"@id":           person,
		"@type":         "uco-identity:Person",
		"uco-core:name": p.Person,
	})
	g.relationship(person, org, KindMemberOf)
	if p.Role != "" {
		role := nodeID("role", p.Role)
		g.add(Node{"@id": role, "@type": "uco-role:Role", "uco-core:name": p.Role})
		g.relationship(person, role, KindHasRole)
	}
	return person, nil
}

// organization adds the agency and, if known, its jurisdiction, and returns its IRI.
func (g *graph) organization(agency, jurisdiction string) string {
	org := nodeID("organization", agency)
	g.add(Node{"@id": org, "@type": "uco-identity:Organization", "uco-core:name": agency})
	if jurisdiction != "" {
		loc := nodeID("location", jurisdiction)
		g.add(Node{
			"@id":                  loc,
			"@type":                "uco-location:Location",
			"uco-core:name":        jurisdiction,
			"uco-core:description": "legal jurisdiction " + jurisdiction + ", as the gateway's configuration assigns it to agencies",
		})
		g.relationship(org, loc, KindHasJurisdiction)
	}
	return org
}

// relationship adds the directional relationship source → target of the given kind.
func (g *graph) relationship(source, target, kind string) {
	g.add(Node{
		"@id":                         nodeID("relationship", kind, source, target),
		"@type":                       "uco-core:Relationship",
		"uco-core:source":             refs(source),
		"uco-core:target":             ref(target),
		"uco-core:kindOfRelationship": kind,
		"uco-core:isDirectional":      true,
	})
}

// authorization adds the authorization ev acts under, its grant and legal basis, and
// returns its IRI; "" if ev has neither a grant nor a legal basis. A grant is one
// authorization however many events act under it; it is described from the first
// (the share event, in a complete chain).
func (g *graph) authorization(ev custody.Event) (string, error) {
	basis := ev.LegalBasis
	if basis == "" && ev.Grant != nil {
		basis = ev.Grant.LegalBasis
	}
	if ev.Grant == nil && basis == "" {
		return "", nil
	}
	if ev.Grant == nil {
		id := nodeID("authorization", g.evidenceID, "legal-basis", basis)
		if !g.has(id) {
			g.add(authorizationNode(id, basis, basis))
			g.auths = append(g.auths, id)
		}
		return id, nil
	}
	gr := ev.Grant
	id := nodeID("authorization", g.evidenceID, gr.ID)
	if g.has(id) {
		return id, nil
	}
	n := authorizationNode(id, gr.ID, basis)
	n["uco-core:name"] = grantSummary(gr)
	if ev.Action == custody.ActionShare {
		n["uco-core:startTime"] = dateTime(ev.Time)
	}
	if !gr.Expires.IsZero() {
		n["uco-core:endTime"] = dateTime(gr.Expires)
	}
	g.add(n)
	g.auths = append(g.auths, id)
	if grantor, ok := grantor(ev); ok {
		issuer, err := g.party(custody.Party{Agency: grantor.Agency, Jurisdiction: grantor.Jurisdiction})
		if err != nil {
			return "", fmt.Errorf("grantor: %w", err)
		}
		g.relationship(id, issuer, KindGrantedBy)
	}
	if gr.To != "" {
		holder := g.organization(gr.To, holderJurisdiction(ev))
		g.relationship(id, holder, KindGrantedTo)
	}
	return id, nil
}

func authorizationNode(id, identifier, basis string) Node {
	return Node{
		"@id":                                  id,
		"@type":                                "case-investigation:Authorization",
		"case-investigation:authorizationType": authorizationType(basis),
		"case-investigation:authorizationIdentifier": identifier,
		"uco-core:description":                       basis,
	}
}

// grantor returns the party that issued ev's grant: the actor of a share or revoke,
// the counterparty of an event done under the grant.
func grantor(ev custody.Event) (custody.Party, bool) {
	switch {
	case ev.Action == custody.ActionShare || ev.Action == custody.ActionRevoke:
		return ev.Actor, true
	case ev.Counterparty != nil:
		return *ev.Counterparty, true
	}
	return custody.Party{}, false
}

// holderJurisdiction returns the jurisdiction of the grantee of ev's grant, if ev
// names the grantee as a party.
func holderJurisdiction(ev custody.Event) string {
	for _, p := range []*custody.Party{&ev.Actor, ev.Counterparty} {
		if p != nil && p.Agency == ev.Grant.To {
			return p.Jurisdiction
		}
	}
	return ""
}

// grantSummary names a grant and its terms.
func grantSummary(gr *custody.Grant) string {
	s := "grant " + gr.ID + " to " + gr.To
	if !gr.Expires.IsZero() {
		s += ", until " + gr.Expires.UTC().Format(time.RFC3339)
	}
	if gr.MaxDownloads > 0 {
		s += fmt.Sprintf(", at most %d download(s)", gr.MaxDownloads)
	}
	if gr.ViewOnly {
		s += ", view only"
	}
	return s
}

// authorizationTypes are the instruments recognised by the first word of a legal basis.
var authorizationTypes = map[string]string{
	"MLAT":    "MLAT",
	"MLA":     "MLA",
	"EIO":     "EIO",
	"EPOC":    "EPOC",
	"EPOC-PR": "EPOC-PR",
	"JIT":     "JIT",
}

// authorizationType classifies a legal basis by its first word: MLAT, MLA, EIO, EPOC,
// EPOC-PR or JIT; any other basis is "legal basis".
func authorizationType(basis string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(basis), " ")
	first = strings.TrimRight(strings.ToUpper(first), ".,:;")
	if t, ok := authorizationTypes[first]; ok {
		return t
	}
	return "legal basis"
}
