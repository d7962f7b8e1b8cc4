package caseexport

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/evidencegw/evidencegw/custody"
)

// FromBundle converts the custody bundle of one exhibit into a CASE document: the
// exhibit, the parties, one case-investigation:InvestigativeAction per custody event,
// the authorizations (grants and their legal basis) the actions rest on, and a
// case-investigation:ProvenanceRecord that lists the chain.
//
// FromBundle does not verify signatures, the hash chain or the log inclusion proofs;
// verify the bundle with custody.Verify first when the export must be trustworthy. It
// decodes every statement with custody.ParseStatement and fails on a malformed one, on
// events out of sequence, on an event about another exhibit and on a malformed proof.
func FromBundle(b *custody.Bundle) (*Document, error) {
	if b == nil || len(b.Events) == 0 {
		return nil, errors.New("converting custody bundle: it holds no event")
	}
	g := &graph{byID: map[string]Node{}}
	for i, entry := range b.Events {
		if err := g.addEntry(i, entry); err != nil {
			return nil, fmt.Errorf("converting custody event %d: %w", i, err)
		}
	}
	g.record["uco-core:object"] = refs(append([]string{g.exhibit}, g.actions...)...)
	if len(g.auths) > 0 {
		g.investigation["case-investigation:relevantAuthorization"] = refs(g.auths...)
	}
	return &Document{Context: Context(), Graph: g.nodes}, nil
}

// graph accumulates the nodes of one export, each once, in the order they are added.
type graph struct {
	nodes []Node
	byID  map[string]Node

	evidenceID    string
	exhibitSHA256 string
	exhibitSize   int64

	// IRIs and nodes of the exhibit, its provenance record and its investigation.
	exhibit       string
	record        Node
	investigation Node

	actions []string // action IRIs, by sequence number
	auths   []string // authorization IRIs, in order of first use
}

// add appends n unless a node with its IRI exists, and returns the node in the graph.
func (g *graph) add(n Node) Node {
	if old, ok := g.byID[n.ID()]; ok {
		return old
	}
	g.byID[n.ID()] = n
	g.nodes = append(g.nodes, n)
	return n
}

// has reports whether the graph holds a node with IRI id.
func (g *graph) has(id string) bool {
	_, ok := g.byID[id]
	return ok
}

// addEntry decodes bundle entry i and adds its event.
func (g *graph) addEntry(i int, entry custody.BundleEntry) error {
	payload, err := entry.Envelope.PayloadBytes()
	if err != nil {
		return err
	}
	st, err := custody.ParseStatement(payload)
	if err != nil {
		return err
	}
	ev := st.Predicate
	if ev.Seq != uint64(i) {
		return fmt.Errorf("has sequence number %d: events are missing or out of order", ev.Seq)
	}
	if i == 0 {
		g.begin(ev)
	} else if ev.EvidenceID != g.evidenceID {
		return fmt.Errorf("is about %s, not %s", ev.EvidenceID, g.evidenceID)
	}
	pos, err := parseProofPosition(entry.Proof)
	if err != nil {
		return err
	}
	return g.addAction(ev, custody.Digest(payload), pos)
}

// begin adds the investigation, the provenance record and the exhibit of the register
// event ev (ParseStatement ensures that event 0 registers, with exhibit facts).
func (g *graph) begin(ev custody.Event) {
	g.evidenceID = ev.EvidenceID
	g.exhibitSHA256, g.exhibitSize = ev.Exhibit.SHA256, ev.Exhibit.Size
	g.exhibit = nodeID("file", ev.EvidenceID)
	g.investigation = g.add(Node{
		"@id":                                  nodeID("investigation", ev.Actor.Agency, ev.CaseID),
		"@type":                                "case-investigation:Investigation",
		"uco-core:name":                        ev.CaseID,
		"uco-core:description":                 fmt.Sprintf("case %s of %s, under which %s was registered", ev.CaseID, ev.Actor.Agency, ev.EvidenceID),
		"case-investigation:investigationForm": "case",
	})
	g.record = g.add(Node{
		"@id":                              nodeID("provenance-record", ev.EvidenceID),
		"@type":                            "case-investigation:ProvenanceRecord",
		"uco-core:name":                    "chain of custody of " + ev.EvidenceID,
		"uco-core:description":             "the exhibit and its custody actions in sequence, as recorded by the evidence gateway; the signed events and their log inclusion proofs are in the custody bundle",
		"case-investigation:exhibitNumber": ev.EvidenceID,
	})
	g.investigation["uco-core:object"] = refs(g.record.ID())
	file := Node{
		"@id":           g.exhibit,
		"@type":         "uco-observable:File",
		"uco-core:name": ev.EvidenceID,
		"uco-core:hasFacet": []any{
			Node{
				"@id":                        nodeID("file-facet", g.exhibit),
				"@type":                      "uco-observable:FileFacet",
				"uco-observable:sizeInBytes": integer(ev.Exhibit.Size),
			},
			contentFacet(g.exhibit, ev.Exhibit.SHA256, ev.Exhibit.Size, false),
		},
	}
	if ev.Exhibit.Description != "" {
		file["uco-core:description"] = ev.Exhibit.Description
	}
	g.add(file)
	if a := ev.Exhibit.Acquisition; a != nil && a.ExhibitNumber != "" {
		g.record["case-investigation:exhibitNumber"] = a.ExhibitNumber
	}
	g.actions = append(g.actions, g.acquisition(ev)...)
}

// addAction adds the investigative action of ev and the nodes it refers to.
func (g *graph) addAction(ev custody.Event, digest string, pos logPosition) error {
	seq := strconv.FormatUint(ev.Seq, 10)
	id := nodeID("investigative-action", g.evidenceID, seq)
	performer, err := g.party(ev.Actor)
	if err != nil {
		return fmt.Errorf("actor: %w", err)
	}
	n := Node{
		"@id":                  id,
		"@type":                "case-investigation:InvestigativeAction",
		"uco-core:name":        string(ev.Action),
		"uco-core:description": describe(ev),
		"uco-action:startTime": dateTime(ev.Time),
		"uco-action:performer": ref(performer),
		"uco-core:externalReference": []any{
			externalReference(id, "digest", "evidencegw custody event digest: hex SHA-256 of the signed in-toto statement (docs/bundle.md)", digest),
			externalReference(id, "log-index", "leaf index of the custody event in transparency log "+pos.origin, strconv.FormatUint(pos.index, 10)),
		},
	}
	if ev.Counterparty != nil {
		p, err := g.party(*ev.Counterparty)
		if err != nil {
			return fmt.Errorf("counterparty: %w", err)
		}
		n["uco-action:participant"] = refs(p)
	}
	if len(g.actions) > 0 {
		n["case-investigation:wasInformedBy"] = refs(g.actions[len(g.actions)-1])
	}
	objects, results := g.objectsAndResults(ev)
	n["uco-action:object"] = refs(objects...)
	n["uco-action:result"] = refs(append(results, g.record.ID())...)
	if auth, err := g.authorization(ev); err != nil {
		return err
	} else if auth != "" && ev.Action == custody.ActionRevoke {
		n["uco-action:object"] = refs(append(objects, auth)...)
	} else if auth != "" {
		n["uco-action:instrument"] = refs(auth)
	}
	g.add(n)
	g.actions = append(g.actions, id)
	return nil
}

// objectsAndResults returns what ev acted on (the exhibit, and the sealed copy it read,
// held or rewrapped) and what it produced, besides the provenance record.
func (g *graph) objectsAndResults(ev custody.Event) (objects, results []string) {
	objects = []string{g.exhibit}
	if ev.Action == custody.ActionRegister {
		return objects, []string{g.sealedCopy(ev.Storage)}
	}
	if ev.Storage != nil {
		objects = append(objects, g.sealedCopy(ev.Storage))
	}
	switch ev.Action {
	case custody.ActionAccept:
		if ev.Receipt != nil {
			results = append(results, g.receipt(ev))
		}
	case custody.ActionDownload, custody.ActionDownloadDeliver:
		results = append(results, g.receivedCopy(ev))
	}
	return objects, results
}

// externalReference ties the node owner to an identifier outside the graph.
func externalReference(owner, kind, context, identifier string) Node {
	return Node{
		"@id":                         nodeID("external-reference", owner, kind),
		"@type":                       "uco-core:ExternalReference",
		"uco-core:definingContext":    context,
		"uco-core:externalIdentifier": identifier,
	}
}
