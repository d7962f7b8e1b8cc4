package custody

import (
	"strings"
	"testing"
)

// TestStrictJSON: what two readers could read two ways is refused by every parser of
// outside input.
func TestStrictJSON(t *testing.T) {
	const stmt = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"ev-aaaaaaaaaaaaaaaaaaaaaaaaaa","digest":{"sha256":"` +
		`0000000000000000000000000000000000000000000000000000000000000000"}}],"predicateType":"https://github.com/evidencegw/evidencegw/custody-event/v1",` +
		`"predicate":{"evidence_id":"ev-aaaaaaaaaaaaaaaaaaaaaaaaaa","case_id":"C","seq":1,"prev":"` +
		`1111111111111111111111111111111111111111111111111111111111111111","action":"share","time":"2026-01-01T00:00:00Z",` +
		`"actor":{"agency":"a","jurisdiction":"NL"}}}`
	if _, err := ParseStatement([]byte(stmt)); err != nil {
		t.Fatalf("the plain statement does not parse: %v", err)
	}
	tests := []struct {
		name, in string
		parse    func([]byte) error
		want     string // in the error
	}{
		{"statement: duplicate member", strings.Replace(stmt, `"action":"share"`, `"action":"share","action":"download"`, 1),
			func(b []byte) error { _, err := ParseStatement(b); return err }, `duplicate object member name "action"`},
		{"statement: case-variant member", strings.Replace(stmt, `"action":"share"`, `"Action":"share"`, 1),
			func(b []byte) error { _, err := ParseStatement(b); return err }, `unknown object member name "Action"`},
		{"statement: invalid UTF-8", strings.Replace(stmt, `"case_id":"C"`, "\"case_id\":\"C\xff\"", 1),
			func(b []byte) error { _, err := ParseStatement(b); return err }, `invalid UTF-8`},
		{"statement: trailing data", stmt + " {}",
			func(b []byte) error { _, err := ParseStatement(b); return err }, `after top-level value`},
		{"envelope: duplicate payload", `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","payload":"W10=","signatures":[{"keyid":"k","sig":"AA=="}]}`,
			func(b []byte) error { _, err := ParseEnvelope(b); return err }, `duplicate object member name "payload"`},
		{"bundle: duplicate events", `{"media_type":"` + BundleMediaType + `","events":[],"events":[]}`,
			func(b []byte) error { _, err := ParseBundle(b); return err }, `duplicate object member name "events"`},
		{"bundle: case-variant media type", `{"Media_Type":"` + BundleMediaType + `","events":[]}`,
			func(b []byte) error { _, err := ParseBundle(b); return err }, `unknown object member name "Media_Type"`},
		{"trust root: duplicate quorum", `{"media_type":"` + TrustRootMediaType + `","event_keys":[],"log":{"origin":"o","verifier_key":"v"},"witnesses":{"quorum":0,"quorum":1,"keys":[]}}`,
			func(b []byte) error { _, err := ParseTrustRoot(b); return err }, `duplicate object member name "quorum"`},
		{"log snapshot: duplicate checkpoint", `{"media_type":"` + LogSnapshotMediaType + `","checkpoint":"a","checkpoint":"b","leaves":[]}`,
			func(b []byte) error { _, err := ParseLogSnapshot(b); return err }, `duplicate object member name "checkpoint"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error mentioning %s", err, tt.want)
			}
		})
	}
}
