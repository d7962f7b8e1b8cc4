package caseexport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"

	"github.com/evidencegw/evidencegw/custody"
)

var sha256HexRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// contentFacet describes content of the given size and hex SHA-256 digest, for the
// node owner. A malformed digest is left out rather than typed as xsd:hexBinary.
func contentFacet(owner, sha string, size int64, encrypted bool) Node {
	f := Node{
		"@id":                        nodeID("content-data-facet", owner),
		"@type":                      "uco-observable:ContentDataFacet",
		"uco-observable:sizeInBytes": integer(size),
	}
	if sha256HexRe.MatchString(sha) {
		// SPEC (UCO 1.4.0): "the datatype to use for types:hashMethod should be xsd:string".
		f["uco-observable:hash"] = []any{Node{
			"@id":                  nodeID("hash", owner),
			"@type":                "uco-types:Hash",
			"uco-types:hashMethod": "SHA256",
			"uco-types:hashValue":  typed("xsd:hexBinary", sha),
		}}
	}
	if encrypted {
		f["uco-observable:isEncrypted"] = true
	}
	return f
}

// sealedCopy adds the encrypted object the gateway stores, as s describes it, and
// returns its IRI. The key reference and ETag stay out of the export.
func (g *graph) sealedCopy(s *custody.StorageFacts) string {
	id := nodeID("sealed-copy", g.evidenceID, s.CiphertextSHA256, s.Location, s.Version)
	if g.has(id) {
		return id
	}
	desc := fmt.Sprintf("the exhibit content sealed with %s and stored at %s", s.Cipher, s.Location)
	if s.Version != "" {
		desc += " (version " + s.Version + ")"
	}
	g.add(Node{
		"@id":                               id,
		"@type":                             "uco-observable:ObservableObject",
		"uco-core:name":                     "sealed copy of " + g.evidenceID,
		"uco-core:description":              desc,
		"uco-core:hasFacet":                 []any{contentFacet(id, s.CiphertextSHA256, s.CiphertextSize, true)},
		"case-investigation:wasDerivedFrom": refs(g.exhibit),
	})
	return id
}

// receivedCopy adds the copy of the exhibit that download event ev released, and
// returns its IRI.
func (g *graph) receivedCopy(ev custody.Event) string {
	id := nodeID("received-copy", g.evidenceID, strconv.FormatUint(ev.Seq, 10))
	g.add(Node{
		"@id":           id,
		"@type":         "uco-observable:File",
		"uco-core:name": fmt.Sprintf("copy of %s downloaded by %s", g.evidenceID, ev.Actor.Agency),
		"uco-core:description": "the exhibit content the gateway released to " + who(ev.Actor) +
			", after checking the sealed copy; its digest is the registered exhibit's",
		"uco-core:hasFacet":                 []any{contentFacet(id, g.exhibitSHA256, g.exhibitSize, false)},
		"case-investigation:wasDerivedFrom": refs(g.exhibit),
	})
	return id
}

// receipt adds the partner's signed receipt carried by accept event ev, and returns
// its IRI. The facet's digest is of the exact statement bytes the partner signed.
func (g *graph) receipt(ev custody.Event) string {
	id := nodeID("receipt", g.evidenceID, strconv.FormatUint(ev.Seq, 10))
	sum := sha256.Sum256(ev.Receipt.Statement)
	name := "receipt signed by " + ev.Actor.Agency
	if ev.Grant != nil {
		name += " for grant " + ev.Grant.ID
	}
	g.add(Node{
		"@id":                  id,
		"@type":                "uco-observable:ObservableObject",
		"uco-core:name":        name,
		"uco-core:description": fmt.Sprintf("receipt statement signed with the key of %s's client certificate; statement, signature and certificate are in custody event %d of the bundle", ev.Actor.Agency, ev.Seq),
		"uco-core:hasFacet":    []any{contentFacet(id, hex.EncodeToString(sum[:]), int64(len(ev.Receipt.Statement)), false)},
	})
	return id
}
