package api

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/custody"
)

func TestAcquisitionQueryRoundTrip(t *testing.T) {
	seized := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
	a := &custody.Acquisition{ExhibitNumber: "NL-0042-EX3", Tool: "FTK Imager", ToolVersion: "4.7.1",
		Examiner: "J. de Vries", SeizedAt: &seized, SeizedPlace: "Rotterdam, Coolsingel 1", Notes: "write blocker; & = ?",
		SourceHashes: map[string]string{"md5": strings.Repeat("a", 32), "sha1": strings.Repeat("b", 40), "sha256": strings.Repeat("c", 64)}}
	q := url.Values{"case_id": {"C-1"}}
	SetAcquisitionQuery(q, a)
	parsed, err := url.ParseQuery(q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseAcquisitionQuery(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("round trip: got %+v, want %+v", got, a)
	}
	if got, err := ParseAcquisitionQuery(url.Values{"case_id": {"C-1"}}); got != nil || err != nil {
		t.Errorf("no forensic parameter: got %+v, %v; want nil, nil", got, err)
	}
}

func TestParseAcquisitionQuery(t *testing.T) {
	tests := []struct {
		query string
		want  string // substring of the error; "" = valid
	}{
		{"source_md5=" + strings.Repeat("A", 32), ""},
		{"source_md5=" + strings.Repeat("a", 31), "source_md5: source md5 hash is not 32 lowercase hex digits"},
		{"source_sha1=" + strings.Repeat("g", 40), "source_sha1: source sha1 hash is not 40 lowercase hex digits"},
		{"source_sha256=" + strings.Repeat("a", 40), "source_sha256"},
		{"examiner=a&examiner=b", "examiner is given 2 times"},
		{"seized_at=2026-03-01", "seized_at is not an RFC 3339 time"},
		{"seized_at=2026-03-01T07:30:00%2B01:00", ""},
	}
	for _, tt := range tests {
		q, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseAcquisitionQuery(q)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v, want success", tt.query, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error saying %q", tt.query, err, tt.want)
		case tt.want == "" && got == nil:
			t.Errorf("%s: got no acquisition facts", tt.query)
		}
	}
	q, _ := url.ParseQuery("source_md5=" + strings.Repeat("AB", 16) + "&seized_at=2026-03-01T07:30:00%2B01:00")
	got, _ := ParseAcquisitionQuery(q)
	if got.SourceHashes["md5"] != strings.Repeat("ab", 16) || got.SeizedAt.Location() != time.UTC || got.SeizedAt.Hour() != 6 {
		t.Errorf("normalised facts = %+v, want a lowercase md5 and the time in UTC", got)
	}
}

// FuzzParseAcquisitionQuery: whatever the query, the parser returns an error or facts
// whose hashes are well formed and that survive a round trip through the query.
func FuzzParseAcquisitionQuery(f *testing.F) {
	f.Add("exhibit_number=NL-1&source_md5=" + strings.Repeat("A", 32) + "&seized_at=2026-03-01T06:30:00Z&notes=x")
	f.Add("source_sha1=abc&examiner=a&examiner=b")
	f.Add("seized_at=2026-03-01T07:30:00%2B01:00&tool=FTK&tool_version=4")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		a, err := ParseAcquisitionQuery(q)
		if err != nil || a == nil {
			return
		}
		for alg, v := range a.SourceHashes {
			if err := custody.CheckSourceHash(alg, v); err != nil {
				t.Errorf("parsed a malformed hash: %v", err)
			}
		}
		back := url.Values{}
		SetAcquisitionQuery(back, a)
		again, err := ParseAcquisitionQuery(back)
		if err != nil || !reflect.DeepEqual(again, a) {
			t.Errorf("round trip of %+v: got %+v, %v", a, again, err)
		}
	})
}
