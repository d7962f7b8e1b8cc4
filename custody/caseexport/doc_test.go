package caseexport

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDocExample checks that the JSON examples of docs/case-export.md are JSON-LD
// documents whose nodes appear, exactly as shown, in the golden export.
func TestDocExample(t *testing.T) {
	md, err := os.ReadFile("../../docs/case-export.md")
	if err != nil {
		t.Fatal(err)
	}
	golden := map[string]any{}
	for _, n := range readGraph(t, mustRead(t, goldenFile)) {
		golden[n["@id"].(string)] = n
	}
	blocks := strings.Split(string(md), "```json\n")[1:]
	if len(blocks) == 0 {
		t.Fatal("docs/case-export.md has no JSON example")
	}
	for _, b := range blocks {
		block, _, _ := strings.Cut(b, "```")
		for _, n := range readGraph(t, []byte(block)) {
			if want := golden[n["@id"].(string)]; !reflect.DeepEqual(n, want) {
				t.Errorf("docs/case-export.md shows node %s, which the golden file does not hold as shown", n["@id"])
			}
		}
	}
}

func readGraph(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var doc struct {
		Context map[string]string `json:"@context"`
		Graph   []map[string]any  `json:"@graph"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("example is not JSON: %v", err)
	}
	if !reflect.DeepEqual(doc.Context, Context()) {
		t.Errorf("example context %v, want %v", doc.Context, Context())
	}
	return doc.Graph
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
