package caseexport

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

// acquisitionEvents is a chain whose register event carries forensic metadata and
// that ends in a disposal.
func acquisitionEvents() []custody.Event {
	seized := time.Date(2026, 2, 28, 6, 30, 0, 0, time.UTC)
	storage := sealed
	events := fixtureEvents()[:1]
	x := *events[0].Exhibit
	x.Acquisition = &custody.Acquisition{ExhibitNumber: "FR-2026-0042-EX3", Tool: "Cellebrite UFED", ToolVersion: "7.69",
		Examiner: "C. Martin", SeizedAt: &seized, SeizedPlace: "Lyon, 12 rue X", Notes: "phone in flight mode, Faraday bag",
		SourceHashes: map[string]string{"md5": strings.Repeat("0a", 16), "sha1": strings.Repeat("1b", 20), "sha256": strings.Repeat("2c", 32)}}
	events[0].Exhibit = &x
	return append(events,
		custody.Event{Action: custody.ActionDispose, Actor: alice, LegalBasis: "order of the tribunal judiciaire de Lyon, 2036/17", Storage: &storage,
			Detail: "the sealed content and every version of its wrapped data key (1 stored) are destroyed"},
		custody.Event{Action: custody.ActionBundleExport, Actor: alice})
}

// TestAcquisitionAndDisposal: the forensic metadata of the register event becomes the
// source medium with its digests, a seizure and an acquisition in UCO/CASE terms, and a
// disposal an action resting on its authority.
func TestAcquisitionAndDisposal(t *testing.T) {
	b, _, err := newBundleOf(acquisitionEvents())
	if err != nil {
		t.Fatal(err)
	}
	g := decode(t, export(t, b))
	byName := map[string]map[string]any{}
	for _, a := range g.ofType("case-investigation:InvestigativeAction") {
		byName[str(a["uco-core:name"])] = a
	}
	exhibit := g.exhibit(t)

	source := g.node(t, refIDs(exhibit["case-investigation:wasDerivedFrom"])[0])
	if str(source["@type"]) != "uco-observable:ObservableObject" || !strings.HasPrefix(str(source["uco-core:name"]), "source medium") {
		t.Fatalf("the exhibit derives from %v, want the source medium", source)
	}
	facet := source["uco-core:hasFacet"].([]any)[0].(map[string]any)
	var methods []string
	for _, h := range facet["uco-observable:hash"].([]any) {
		h := h.(map[string]any)
		methods = append(methods, str(h["uco-types:hashMethod"]))
		if v := h["uco-types:hashValue"].(map[string]any); v["@type"] != "xsd:hexBinary" {
			t.Errorf("hash value %v, want an xsd:hexBinary", v)
		}
	}
	if !slices.Equal(methods, []string{"MD5", "SHA1", "SHA256"}) {
		t.Errorf("source medium hash methods %q, want MD5, SHA1, SHA256", methods)
	}

	seizure, acquisition := byName["seizure"], byName["acquisition"]
	if seizure == nil || acquisition == nil {
		t.Fatalf("actions %v, want a seizure and an acquisition", slices.Collect(maps.Keys(byName)))
	}
	if st := seizure["uco-action:startTime"].(map[string]any); st["@value"] != "2026-02-28T06:30:00Z" {
		t.Errorf("seizure start time %v", st)
	}
	if loc := g.node(t, refIDs(seizure["uco-action:location"])[0]); str(loc["uco-core:name"]) != "Lyon, 12 rue X" {
		t.Errorf("seizure location %v", loc)
	}
	if got := refIDs(seizure["uco-action:object"]); !slices.Equal(got, []string{str(source["@id"])}) {
		t.Errorf("seizure objects %v, want the source medium", got)
	}
	if got := refIDs(acquisition["uco-action:result"]); !slices.Equal(got, []string{str(exhibit["@id"])}) {
		t.Errorf("acquisition results %v, want the exhibit", got)
	}
	if p := g.node(t, refID(acquisition["uco-action:performer"])); str(p["uco-core:name"]) != "C. Martin" || str(p["@type"]) != "uco-identity:Person" {
		t.Errorf("acquisition performer %v, want the examiner", p)
	}
	tool := g.node(t, refIDs(acquisition["uco-action:instrument"])[0])
	if str(tool["@type"]) != "uco-tool:Tool" || str(tool["uco-core:name"]) != "Cellebrite UFED" || str(tool["uco-tool:version"]) != "7.69" {
		t.Errorf("acquisition instrument %v, want the tool and its version", tool)
	}
	notes := g.ofType("uco-core:Annotation")
	if len(notes) != 1 || str(notes[0]["uco-core:statement"]) != "phone in flight mode, Faraday bag" || refIDs(notes[0]["uco-core:object"])[0] != str(exhibit["@id"]) {
		t.Errorf("annotations %v, want the notes on the exhibit", notes)
	}

	pr := g.ofType("case-investigation:ProvenanceRecord")[0]
	if got := str(pr["case-investigation:exhibitNumber"]); got != "FR-2026-0042-EX3" {
		t.Errorf("provenance record exhibit number %q, want the agency's", got)
	}
	objs := refIDs(pr["uco-core:object"])
	if len(objs) < 4 || objs[1] != str(seizure["@id"]) || objs[2] != str(acquisition["@id"]) || objs[3] != str(byName["register"]["@id"]) {
		t.Errorf("provenance record objects %v, want the exhibit, the seizure, the acquisition, then the custody actions", objs)
	}

	dispose := byName["dispose"]
	if !strings.Contains(str(dispose["uco-core:description"]), "disposed of "+fixtureEvidenceID) ||
		!strings.Contains(str(dispose["uco-core:description"]), "tribunal judiciaire de Lyon") {
		t.Errorf("dispose description %q", dispose["uco-core:description"])
	}
	auth := g.node(t, refIDs(dispose["uco-action:instrument"])[0])
	if str(auth["@type"]) != "case-investigation:Authorization" || str(auth["uco-core:description"]) != "order of the tribunal judiciaire de Lyon, 2036/17" {
		t.Errorf("dispose instrument %v, want the authorization it rests on", auth)
	}
}
