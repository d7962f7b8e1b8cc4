package caseexport

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

var update = flag.Bool("update", false, "rewrite testdata/chain.jsonld from the fixture bundle")

const goldenFile = "testdata/chain.jsonld"

// TestGolden compares the export of the fixture bundle with testdata/chain.jsonld;
// go test -run TestGolden -update rewrites it.
func TestGolden(t *testing.T) {
	b, _ := fixtureBundle(t)
	got := export(t, b)
	if *update {
		if err := os.WriteFile(goldenFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatalf("reading golden file (regenerate with -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("export differs from %s (regenerate with -update if intended):\n%s", goldenFile, firstDiff(got, want))
	}
	if again := export(t, b); !bytes.Equal(got, again) {
		t.Error("two exports of one bundle differ")
	}
}

func TestContext(t *testing.T) {
	g := decode(t, export(t, mustFixture(t)))
	for _, p := range []string{"case-investigation", "uco-core", "uco-action", "uco-observable", "uco-identity", "uco-location", "uco-role", "uco-types", "xsd", "kb"} {
		if g.context[p] == "" {
			t.Errorf("@context lacks prefix %s", p)
		}
	}
	if got, want := g.context["uco-core"], "https://ontology.unifiedcyberontology.org/uco/core/"; got != want {
		t.Errorf("uco-core prefix %q, want %q", got, want)
	}
}

func TestEveryEventIsOneAction(t *testing.T) {
	b, payloads := fixtureBundle(t)
	g := decode(t, export(t, b))
	actions := g.ofType("case-investigation:InvestigativeAction")
	if len(actions) != len(b.Events) {
		t.Fatalf("got %d investigative actions, want %d (one per event)", len(actions), len(b.Events))
	}
	exhibit := g.exhibit(t)["@id"]
	for i, ev := range fixtureEvents() {
		a := actions[i]
		if got := str(a["uco-core:name"]); got != string(ev.Action) {
			t.Errorf("action %d: name %q, want %q", i, got, ev.Action)
		}
		performer := g.node(t, refID(a["uco-action:performer"]))
		if got, want := str(performer["uco-core:name"]), ev.Actor.Person; got != want {
			t.Errorf("action %d: performer %q, want %q", i, got, want)
		}
		if got := str(performer["@type"]); got != "uco-identity:Person" {
			t.Errorf("action %d: performer type %q, want uco-identity:Person", i, got)
		}
		if objs := refIDs(a["uco-action:object"]); len(objs) == 0 || objs[0] != exhibit {
			t.Errorf("action %d: objects %v, want the exhibit %v first", i, objs, exhibit)
		}
		if ev.Storage != nil && ev.Action != custody.ActionRegister {
			objs := refIDs(a["uco-action:object"])
			if len(objs) < 2 || str(g.node(t, objs[1])["uco-core:name"]) != "sealed copy of "+fixtureEvidenceID {
				t.Errorf("action %d (%s): objects %v, want the exhibit and its sealed copy", i, ev.Action, objs)
			}
		}
		wantTime := fixtureStart.Add(time.Duration(i) * 26 * time.Hour).Format(time.RFC3339Nano)
		if st, _ := a["uco-action:startTime"].(map[string]any); st["@type"] != "xsd:dateTime" || st["@value"] != wantTime {
			t.Errorf("action %d: startTime %v, want %s as xsd:dateTime", i, a["uco-action:startTime"], wantTime)
		}
		refs := externalRefs(a)
		if got, want := refs["digest"], custody.Digest(payloads[i]); got != want {
			t.Errorf("action %d: digest reference %q, want %q", i, got, want)
		}
		if got, want := refs["leaf index"], strconv.Itoa(100+i); got != want {
			t.Errorf("action %d: log index reference %q, want %q", i, got, want)
		}
		if i > 0 {
			if got := refIDs(a["case-investigation:wasInformedBy"]); len(got) != 1 || got[0] != actions[i-1]["@id"] {
				t.Errorf("action %d: wasInformedBy %v, want action %d", i, got, i-1)
			}
		}
		if ev.Counterparty != nil {
			p := g.node(t, refIDs(a["uco-action:participant"])[0])
			if got := str(p["uco-core:name"]); got != ev.Counterparty.Agency {
				t.Errorf("action %d: participant %q, want %q", i, got, ev.Counterparty.Agency)
			}
		}
	}
}

func TestGrantActionsLinkAuthorization(t *testing.T) {
	g := decode(t, export(t, mustFixture(t)))
	actions := g.ofType("case-investigation:InvestigativeAction")
	for i, ev := range fixtureEvents() {
		a := actions[i]
		var linked []string
		switch ev.Action {
		case custody.ActionShare, custody.ActionAccept, custody.ActionDownload:
			linked = refIDs(a["uco-action:instrument"])
		case custody.ActionRevoke:
			linked = refIDs(a["uco-action:object"])[1:]
		default:
			if a["uco-action:instrument"] != nil {
				t.Errorf("action %d (%s): has instrument %v, want none", i, ev.Action, a["uco-action:instrument"])
			}
			continue
		}
		if len(linked) != 1 {
			t.Fatalf("action %d (%s): linked %v, want one authorization", i, ev.Action, linked)
		}
		auth := g.node(t, linked[0])
		if got := str(auth["@type"]); got != "case-investigation:Authorization" {
			t.Errorf("action %d: linked %s, want a case-investigation:Authorization", i, got)
		}
		if got := str(auth["uco-core:description"]); got != ev.Grant.LegalBasis {
			t.Errorf("action %d: authorization description %q, want the legal basis %q", i, got, ev.Grant.LegalBasis)
		}
		if got := str(auth["case-investigation:authorizationIdentifier"]); got != ev.Grant.ID {
			t.Errorf("action %d: authorization identifier %q, want grant id %q", i, got, ev.Grant.ID)
		}
		wantType := map[string]string{grantMLAT.ID: "MLAT", grantEIO.ID: "EIO"}[ev.Grant.ID]
		if got := str(auth["case-investigation:authorizationType"]); got != wantType {
			t.Errorf("action %d: authorization type %q, want %q", i, got, wantType)
		}
		if got, want := g.related(t, auth["@id"], KindGrantedBy), "police-fr"; got != want {
			t.Errorf("action %d: authorization issued by %q, want %q", i, got, want)
		}
		if got, want := g.related(t, auth["@id"], KindGrantedTo), ev.Grant.To; got != want {
			t.Errorf("action %d: authorization held by %q, want %q", i, got, want)
		}
	}
	if got := len(g.ofType("case-investigation:Authorization")); got != 2 {
		t.Errorf("got %d authorizations, want 2 (one per grant)", got)
	}
	inv := g.ofType("case-investigation:Investigation")
	if len(inv) != 1 || len(refIDs(inv[0]["case-investigation:relevantAuthorization"])) != 2 {
		t.Errorf("investigations %v, want one naming both authorizations", inv)
	}
}

func TestProvenanceRecordListsChain(t *testing.T) {
	g := decode(t, export(t, mustFixture(t)))
	records := g.ofType("case-investigation:ProvenanceRecord")
	if len(records) != 1 {
		t.Fatalf("got %d provenance records, want 1", len(records))
	}
	pr := records[0]
	if got := str(pr["case-investigation:exhibitNumber"]); got != fixtureEvidenceID {
		t.Errorf("exhibitNumber %q, want %q", got, fixtureEvidenceID)
	}
	want := []string{str(g.exhibit(t)["@id"])}
	for _, a := range g.ofType("case-investigation:InvestigativeAction") {
		want = append(want, str(a["@id"]))
		if !slices.Contains(refIDs(a["uco-action:result"]), str(pr["@id"])) {
			t.Errorf("action %s: results %v lack the provenance record", a["@id"], a["uco-action:result"])
		}
	}
	if got := refIDs(pr["uco-core:object"]); !slices.Equal(got, want) {
		t.Errorf("provenance record objects\n%v\nwant the exhibit and the actions in sequence\n%v", got, want)
	}
}

func TestExhibitFacets(t *testing.T) {
	g := decode(t, export(t, mustFixture(t)))
	var hashes []map[string]any
	for _, n := range g.byID {
		if n["@type"] == "uco-types:Hash" {
			hashes = append(hashes, n)
		}
	}
	exhibit := g.exhibit(t)
	var content map[string]any
	for _, f := range exhibit["uco-core:hasFacet"].([]any) {
		if f := f.(map[string]any); f["@type"] == "uco-observable:ContentDataFacet" {
			content = f
		}
	}
	if content == nil {
		t.Fatal("exhibit has no ContentDataFacet")
	}
	size, _ := content["uco-observable:sizeInBytes"].(map[string]any)
	if size["@type"] != "xsd:integer" || size["@value"] != strconv.Itoa(len(fixtureContent)) {
		t.Errorf("sizeInBytes %v, want %d as xsd:integer", size, len(fixtureContent))
	}
	h := content["uco-observable:hash"].([]any)[0].(map[string]any)
	value, _ := h["uco-types:hashValue"].(map[string]any)
	if h["uco-types:hashMethod"] != "SHA256" || value["@type"] != "xsd:hexBinary" || value["@value"] != fixtureSHA256 {
		t.Errorf("hash %v, want SHA256 %s as xsd:hexBinary", h, fixtureSHA256)
	}
	if len(hashes) < 3 {
		t.Errorf("got %d hashes, want the exhibit's, the sealed copy's, the receipt's...", len(hashes))
	}
}

func TestPartiesAndJurisdictions(t *testing.T) {
	g := decode(t, export(t, mustFixture(t)))
	orgs := map[string]string{}
	for _, o := range g.ofType("uco-identity:Organization") {
		orgs[str(o["uco-core:name"])] = g.related(t, o["@id"], KindHasJurisdiction)
	}
	want := map[string]string{"police-fr": "FR", "agency-us": "US", "prosecutor-be": "BE", "gateway-ops": "EU"}
	if !maps.Equal(orgs, want) {
		t.Errorf("organizations and jurisdictions %v, want %v", orgs, want)
	}
	for _, p := range g.ofType("uco-identity:Person") {
		name := str(p["uco-core:name"])
		wantOrg := map[string]string{"alice": "police-fr", "bob": "agency-us", "olga": "gateway-ops"}[name]
		if got := g.related(t, p["@id"], KindMemberOf); got != wantOrg {
			t.Errorf("person %s member of %q, want %q", name, got, wantOrg)
		}
		if got := g.related(t, p["@id"], KindHasRole); got == "" {
			t.Errorf("person %s has no role", name)
		}
	}
}

// TestReferencesDefined checks that the output is JSON, that every @id referenced is
// defined exactly once, that every node has a type and an IRI ending in a UUID.
func TestReferencesDefined(t *testing.T) {
	g := decode(t, export(t, mustFixture(t)))
	for _, id := range g.refs {
		if _, ok := g.byID[id]; !ok {
			t.Errorf("reference to undefined node %s", id)
		}
	}
	uuidIRI := regexp.MustCompile(`^kb:[a-z-]+-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for id, n := range g.byID {
		if !uuidIRI.MatchString(id) {
			t.Errorf("node IRI %s, want kb:<kind>-<UUIDv5>", id)
		}
		if str(n["@type"]) == "" {
			t.Errorf("node %s has no @type", id)
		}
	}
	for id, count := range g.defined {
		if count > 1 {
			t.Errorf("node %s defined %d times", id, count)
		}
	}
}

func TestFromBundleErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *custody.Bundle)
		want   string
	}{
		{"no events", func(b *custody.Bundle) { b.Events = nil }, "no event"},
		{"missing event", func(b *custody.Bundle) { b.Events = slices.Delete(b.Events, 2, 3) }, "out of order"},
		{"swapped events", func(b *custody.Bundle) { b.Events[1], b.Events[2] = b.Events[2], b.Events[1] }, "out of order"},
		{"payload not base64", func(b *custody.Bundle) { b.Events[1].Envelope.Payload = "!" }, "payload"},
		{"bad statement", func(b *custody.Bundle) {
			b.Events[1].Envelope.Payload = base64.StdEncoding.EncodeToString([]byte(`{"_type":"x"}`))
		}, "statement"},
		{"other exhibit", func(b *custody.Bundle) { b.Events[1].Envelope.Payload = otherExhibitPayload(t, 1) }, "is about"},
		{"no proof", func(b *custody.Bundle) { b.Events[3].Proof = "" }, "tlog-proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustFixture(t)
			tt.mutate(b)
			_, err := FromBundle(b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := FromBundle(nil); err == nil {
		t.Error("nil bundle: got no error")
	}
}

func otherExhibitPayload(t *testing.T, seq uint64) string {
	ev := fixtureEvents()[seq]
	ev.EvidenceID, ev.CaseID, ev.Seq, ev.Prev, ev.Time = "ev-zzzzzzzzzzzzzzzzzzzzzzzzzz", "C", seq, strings.Repeat("0", 64), fixtureStart
	p, err := custody.NewStatement(fixtureSHA256, ev).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(p)
}

func TestAuthorizationType(t *testing.T) {
	tests := []struct{ basis, want string }{
		{"MLAT 2026/17", "MLAT"},
		{"mlat: FR-US", "MLAT"},
		{"EIO 2026-BE-114", "EIO"},
		{"EPOC-PR 7", "EPOC-PR"},
		{"Court order 12/2026", "legal basis"},
		{"", "legal basis"},
	}
	for _, tt := range tests {
		if got := authorizationType(tt.basis); got != tt.want {
			t.Errorf("authorizationType(%q) = %q, want %q", tt.basis, got, tt.want)
		}
	}
}

func TestUUIDNamespace(t *testing.T) {
	url := [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	dns := url
	dns[3] = 0x10
	if got, want := nameUUID(dns, "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d"; got != want {
		t.Errorf("UUIDv5(DNS, python.org) = %s, want %s", got, want)
	}
	got := nameUUID(url, "https://github.com/evidencegw/evidencegw/custody/caseexport")
	if want := formatUUID(uuidNamespace); got != want {
		t.Errorf("uuidNamespace is %s, want %s", want, got)
	}
	if nodeID("k", "a\n1:b") == nodeID("k", "a", "b") {
		t.Error("node ids of different part lists collide")
	}
}

func formatUUID(u [16]byte) string {
	var b strings.Builder
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
	}
	return b.String()
}

func TestParseProofPosition(t *testing.T) {
	tests := []struct {
		name, proof string
		want        logPosition
		wantErr     bool
	}{
		{"with hashes", fixtureProof(7, 9), logPosition{7, fixtureOrigin}, false},
		{"no hashes", "c2sp.org/tlog-proof@v1\nindex 0\n\norigin\n1\nroot\n", logPosition{0, "origin"}, false},
		{"extra", "c2sp.org/tlog-proof@v1\nextra AAAA\nindex 3\n\norigin\n", logPosition{3, "origin"}, false},
		{"empty", "", logPosition{}, true},
		{"no header", "index 3\n\norigin\n", logPosition{}, true},
		{"bad index", "c2sp.org/tlog-proof@v1\nindex -1\n\norigin\n", logPosition{}, true},
		{"no index", "c2sp.org/tlog-proof@v1\nAAAA\n\norigin\n", logPosition{}, true},
		{"no origin", "c2sp.org/tlog-proof@v1\nindex 3\n\n", logPosition{}, true},
	}
	for _, tt := range tests {
		got, err := parseProofPosition(tt.proof)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseProofPosition(f *testing.F) {
	f.Add(fixtureProof(7, 9))
	f.Add("c2sp.org/tlog-proof@v1\nextra AAAA\nindex 3\n\norigin\n")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := parseProofPosition(s)
		if err == nil && (pos.origin == "" || strings.Contains(pos.origin, "\n")) {
			t.Errorf("accepted %q with origin %q", s, pos.origin)
		}
	})
}

func mustFixture(t *testing.T) *custody.Bundle {
	b, _ := fixtureBundle(t)
	return b
}

func export(t *testing.T, b *custody.Bundle) []byte {
	t.Helper()
	doc, err := FromBundle(b)
	if err != nil {
		t.Fatalf("FromBundle: %v", err)
	}
	out, err := doc.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return out
}

// decoded is an exported document read back as plain JSON.
type decoded struct {
	context map[string]string
	top     []map[string]any          // top-level nodes, in order
	byID    map[string]map[string]any // every node defined, at any depth
	defined map[string]int            // how many times each IRI is defined
	refs    []string                  // every IRI referenced
}

func decode(t *testing.T, data []byte) *decoded {
	t.Helper()
	var doc struct {
		Context map[string]string `json:"@context"`
		Graph   []map[string]any  `json:"@graph"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("output is not a JSON-LD document: %v", err)
	}
	g := &decoded{context: doc.Context, top: doc.Graph, byID: map[string]map[string]any{}, defined: map[string]int{}}
	for _, n := range doc.Graph {
		g.walk(n)
	}
	return g
}

func (g *decoded) walk(v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			g.walk(e)
		}
	case map[string]any:
		id, ok := v["@id"].(string)
		switch {
		case ok && len(v) == 1:
			g.refs = append(g.refs, id)
			return
		case ok:
			g.byID[id] = v
			g.defined[id]++
		}
		for k, e := range v {
			if !strings.HasPrefix(k, "@") {
				g.walk(e)
			}
		}
	}
}

func (g *decoded) ofType(typ string) []map[string]any {
	var out []map[string]any
	for _, n := range g.top {
		if n["@type"] == typ {
			out = append(out, n)
		}
	}
	return out
}

// exhibit returns the File named by the fixture's evidence id.
func (g *decoded) exhibit(t *testing.T) map[string]any {
	t.Helper()
	for _, f := range g.ofType("uco-observable:File") {
		if f["uco-core:name"] == fixtureEvidenceID {
			return f
		}
	}
	t.Fatal("no File named by the evidence id")
	return nil
}

func (g *decoded) node(t *testing.T, id string) map[string]any {
	t.Helper()
	n, ok := g.byID[id]
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return n
}

// related returns the name of the target of the relationship of the given kind from
// source, "" if there is none.
func (g *decoded) related(t *testing.T, source any, kind string) string {
	t.Helper()
	for _, r := range g.ofType("uco-core:Relationship") {
		if r["uco-core:kindOfRelationship"] == kind && slices.Contains(refIDs(r["uco-core:source"]), str(source)) {
			if r["uco-core:isDirectional"] != true {
				t.Errorf("relationship %s is not directional", r["@id"])
			}
			return str(g.node(t, refID(r["uco-core:target"]))["uco-core:name"])
		}
	}
	return ""
}

func externalRefs(action map[string]any) map[string]string {
	out := map[string]string{}
	for _, r := range action["uco-core:externalReference"].([]any) {
		r := r.(map[string]any)
		ctx := str(r["uco-core:definingContext"])
		switch {
		case strings.Contains(ctx, "digest"):
			out["digest"] = str(r["uco-core:externalIdentifier"])
		case strings.Contains(ctx, "leaf index") && strings.Contains(ctx, fixtureOrigin):
			out["leaf index"] = str(r["uco-core:externalIdentifier"])
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func refID(v any) string {
	m, _ := v.(map[string]any)
	return str(m["@id"])
}

func refIDs(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		out = append(out, refID(e))
	}
	return out
}

// firstDiff shows the first differing line of got and want.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(no line differs)"
}
