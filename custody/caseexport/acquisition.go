package caseexport

import (
	"fmt"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
)

// hashMethods are the UCO hash method names (uco-vocabulary:HashNameVocab) of the
// source hash algorithms, in the order they are exported.
var hashMethods = [...]struct{ alg, method string }{{"md5", "MD5"}, {"sha1", "SHA1"}, {"sha256", "SHA256"}}

// acquisition adds what the register event ev reports of the exhibit's acquisition:
// the source medium (an ObservableObject whose ContentDataFacet holds the digests the
// acquisition tool reported), its seizure (an InvestigativeAction with a start time and
// a location), its acquisition (an InvestigativeAction by the examiner, with the tool as
// instrument, from the source medium to the exhibit) and the notes (an Annotation of the
// exhibit). It returns the IRIs of the actions, in order, for the provenance record.
// It adds nothing when ev reports nothing.
func (g *graph) acquisition(ev custody.Event) []string {
	a := ev.Exhibit.Acquisition
	if a.IsZero() {
		return nil
	}
	source := g.sourceMedium(a)
	var actions []string
	if a.SeizedAt != nil || a.SeizedPlace != "" {
		n := Node{
			"@id":                  nodeID("investigative-action", g.evidenceID, "seizure"),
			"@type":                "case-investigation:InvestigativeAction",
			"uco-core:name":        "seizure",
			"uco-core:description": "seizure of the source medium of " + g.evidenceID + ", as the registering agency reported it",
			"uco-action:object":    refs(source),
		}
		if a.SeizedAt != nil {
			n["uco-action:startTime"] = dateTime(*a.SeizedAt)
		}
		if a.SeizedPlace != "" {
			place := nodeID("location", g.evidenceID, "seizure", a.SeizedPlace)
			g.add(Node{"@id": place, "@type": "uco-location:Location", "uco-core:name": a.SeizedPlace,
				"uco-core:description": "where the source medium of " + g.evidenceID + " was seized"})
			n["uco-action:location"] = refs(place)
		}
		actions = append(actions, g.add(n).ID())
	}
	n := Node{
		"@id":                  nodeID("investigative-action", g.evidenceID, "acquisition"),
		"@type":                "case-investigation:InvestigativeAction",
		"uco-core:name":        "acquisition",
		"uco-core:description": acquisitionSentence(g.evidenceID, a),
		"uco-action:object":    refs(source),
		"uco-action:result":    refs(g.exhibit),
	}
	if len(actions) > 0 {
		n["case-investigation:wasInformedBy"] = refs(actions[0])
	}
	if a.Examiner != "" {
		examiner := nodeID("examiner", g.evidenceID, a.Examiner)
		g.add(Node{"@id": examiner, "@type": "uco-identity:Person", "uco-core:name": a.Examiner,
			"uco-core:description": "examiner named by the registering agency (not an authenticated party)"})
		n["uco-action:performer"] = ref(examiner)
	}
	if a.Tool != "" {
		tool := Node{"@id": nodeID("tool", a.Tool, a.ToolVersion), "@type": "uco-tool:Tool", "uco-core:name": a.Tool}
		if a.ToolVersion != "" {
			tool["uco-tool:version"] = a.ToolVersion
		}
		n["uco-action:instrument"] = refs(g.add(tool).ID())
	}
	actions = append(actions, g.add(n).ID())
	if a.Notes != "" {
		g.add(Node{
			"@id":                nodeID("annotation", g.evidenceID, "notes"),
			"@type":              "uco-core:Annotation",
			"uco-core:name":      "acquisition notes",
			"uco-core:statement": a.Notes,
			"uco-core:object":    refs(g.exhibit),
		})
	}
	return actions
}

// sourceMedium adds the source medium the exhibit was acquired from, and returns its
// IRI. The exhibit File is wasDerivedFrom it.
func (g *graph) sourceMedium(a *custody.Acquisition) string {
	id := nodeID("source-medium", g.evidenceID)
	n := Node{
		"@id":                  id,
		"@type":                "uco-observable:ObservableObject",
		"uco-core:name":        "source medium of " + g.evidenceID,
		"uco-core:description": "the medium the exhibit was acquired from; its digests are those the acquisition tool reported, as the registering agency stated them",
	}
	var hashes []any
	for _, h := range hashMethods {
		if v := a.SourceHashes[h.alg]; v != "" && custody.CheckSourceHash(h.alg, v) == nil {
			hashes = append(hashes, Node{
				"@id":                  nodeID("hash", id, h.alg),
				"@type":                "uco-types:Hash",
				"uco-types:hashMethod": h.method,
				"uco-types:hashValue":  typed("xsd:hexBinary", v),
			})
		}
	}
	if len(hashes) > 0 {
		n["uco-core:hasFacet"] = []any{Node{
			"@id":                 nodeID("content-data-facet", id),
			"@type":               "uco-observable:ContentDataFacet",
			"uco-observable:hash": hashes,
		}}
	}
	g.add(n)
	g.byID[g.exhibit]["case-investigation:wasDerivedFrom"] = refs(id)
	return id
}

// acquisitionSentence describes the acquisition of an exhibit.
func acquisitionSentence(id string, a *custody.Acquisition) string {
	var b strings.Builder
	fmt.Fprintf(&b, "acquisition of %s from its source medium", id)
	if a.Examiner != "" {
		fmt.Fprintf(&b, " by %s", a.Examiner)
	}
	if a.Tool != "" {
		fmt.Fprintf(&b, " with %s", strings.TrimSpace(a.Tool+" "+a.ToolVersion))
	}
	b.WriteString(", as the registering agency reported it")
	return b.String()
}
