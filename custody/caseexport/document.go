package caseexport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Version is the CASE release (and the UCO release it builds on) that the output targets.
const Version = "CASE 1.4.0 / UCO 1.4.0"

// Context is the JSON-LD @context of every exported document: the CASE and UCO
// namespace prefixes it uses, xsd, and kb for its own nodes.
func Context() map[string]string {
	return map[string]string{
		"case-investigation": "https://ontology.caseontology.org/case/investigation/",
		"kb":                 KBNamespace,
		"uco-action":         "https://ontology.unifiedcyberontology.org/uco/action/",
		"uco-core":           "https://ontology.unifiedcyberontology.org/uco/core/",
		"uco-identity":       "https://ontology.unifiedcyberontology.org/uco/identity/",
		"uco-location":       "https://ontology.unifiedcyberontology.org/uco/location/",
		"uco-observable":     "https://ontology.unifiedcyberontology.org/uco/observable/",
		"uco-role":           "https://ontology.unifiedcyberontology.org/uco/role/",
		"uco-tool":           "https://ontology.unifiedcyberontology.org/uco/tool/",
		"uco-types":          "https://ontology.unifiedcyberontology.org/uco/types/",
		"xsd":                "http://www.w3.org/2001/XMLSchema#",
	}
}

// Node is one JSON-LD node object: "@id", "@type" and compact property IRIs mapped to
// values. A value is a string, a typed literal or node reference (map[string]string),
// a nested Node, or a []any of those.
type Node map[string]any

// ID returns the node's "@id", or "" if it has none.
func (n Node) ID() string {
	id, _ := n["@id"].(string)
	return id
}

// Type returns the node's "@type", or "" if it has none.
func (n Node) Type() string {
	t, _ := n["@type"].(string)
	return t
}

// Document is a CASE JSON-LD document: a context and a graph of nodes.
type Document struct {
	Context map[string]string
	// Graph holds the top-level nodes in a deterministic order: the investigation,
	// the provenance record and the exhibit, then for each event in sequence the
	// nodes it introduces (parties, authorizations, results) and its action.
	Graph []Node
}

// Marshal encodes the document as indented JSON-LD, ending with a newline. Object
// keys are sorted, so equal documents encode to equal bytes.
func (d *Document) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Context map[string]string `json:"@context"`
		Graph   []Node            `json:"@graph"`
	}{d.Context, d.Graph})
	if err != nil {
		return nil, fmt.Errorf("encoding CASE document: %w", err)
	}
	return buf.Bytes(), nil
}

// ref returns a reference to the node with IRI id.
func ref(id string) map[string]string { return map[string]string{"@id": id} }

// refs returns references to the nodes with the given IRIs.
func refs(ids ...string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = ref(id)
	}
	return out
}

// typed returns a literal of datatype t.
func typed(t, v string) map[string]string { return map[string]string{"@type": t, "@value": v} }

// dateTime returns t as an xsd:dateTime literal in UTC.
func dateTime(t time.Time) map[string]string {
	return typed("xsd:dateTime", t.UTC().Format(time.RFC3339Nano))
}

// integer returns n as an xsd:integer literal.
func integer(n int64) map[string]string { return typed("xsd:integer", strconv.FormatInt(n, 10)) }
