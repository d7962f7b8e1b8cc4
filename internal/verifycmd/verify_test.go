package verifycmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
)

func TestMain_Text(t *testing.T) {
	x := newTestExhibit(t)
	otherEvidence := filepath.Join(x.dir, "other.bin")
	writeFile(t, otherEvidence, []byte("not the exhibit\n"))

	tests := []struct {
		name     string
		args     []string
		tamper   func(b *custody.Bundle)
		wantCode int
		want     []string
	}{
		{
			name: "good bundle",
			args: []string{x.bundlePath, "--trust-root", x.trustRootPath},
			want: []string{"Exhibit  ev-abcdefghijklmnopqrstuvwxyz", "Case     CASE-2026-001",
				"register", "share", "accept", "agency-us (US) bob, investigator", "MLAT 2026/17",
				"verified", "not checked", "VERIFIED: 3 events"},
		},
		{
			name: "good bundle and evidence, flags first",
			args: []string{"--evidence", x.evidencePath, "--trust-root", x.trustRootPath, x.bundlePath},
			want: []string{"the evidence file matches", "VERIFIED: 3 events"},
		},
		{
			name:     "wrong evidence",
			args:     []string{x.bundlePath, "--trust-root", x.trustRootPath, "--evidence", otherEvidence},
			wantCode: 1,
			want:     []string{"FAILED:", "evidence content has SHA-256"},
		},
		{
			name: "altered legal basis",
			args: []string{x.bundlePath, "--trust-root", x.trustRootPath},
			tamper: func(b *custody.Bundle) {
				p, _ := b.Events[1].Envelope.PayloadBytes()
				p = bytes.ReplaceAll(p, []byte("MLAT 2026/17"), []byte("MLAT 2026/99"))
				b.Events[1].Envelope.Payload = base64.StdEncoding.EncodeToString(p)
			},
			wantCode: 1,
			want:     []string{"register", "FAILED: verifying", "event 1", "no trusted signature"},
		},
		{
			name:     "event removed",
			args:     []string{x.bundlePath, "--trust-root", x.trustRootPath},
			tamper:   func(b *custody.Bundle) { b.Events = slices.Delete(b.Events, 1, 2) },
			wantCode: 1,
			want:     []string{"FAILED:", "missing or out of order"},
		},
		{
			name:     "no bundle argument",
			args:     []string{"--trust-root", x.trustRootPath},
			wantCode: 2,
		},
		{
			name: "two bundles of one log",
			args: []string{x.bundlePath, x.bundlePath, "--trust-root", x.trustRootPath},
			want: []string{"Also verified", "tree sizes [3] agree"},
		},
		{
			name:     "no trust root",
			args:     []string{x.bundlePath},
			wantCode: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cloneBundle(t, x.bundle)
			if tt.tamper != nil {
				tt.tamper(b)
			}
			x.writeBundle(t, b)
			var stdout bytes.Buffer
			err := Main(tt.args, &stdout, io.Discard)
			if got := ExitCode(err); got != tt.wantCode {
				t.Fatalf("exit code %d (error %v), want %d\n%s", got, err, tt.wantCode, stdout.String())
			}
			if tt.wantCode == 1 && !IsVerificationFailure(err) {
				t.Errorf("error %v does not wrap custody.ErrVerification", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

func TestMain_JSON(t *testing.T) {
	x := newTestExhibit(t)
	tests := []struct {
		name         string
		tamper       func(b *custody.Bundle)
		wantVerified bool
		wantEvents   int
	}{
		{name: "good", wantVerified: true, wantEvents: 3},
		{name: "chain broken at event 2", tamper: func(b *custody.Bundle) { b.Events[2] = b.Events[1] }, wantEvents: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cloneBundle(t, x.bundle)
			if tt.tamper != nil {
				tt.tamper(b)
			}
			x.writeBundle(t, b)
			var stdout bytes.Buffer
			err := Main([]string{"--json", x.bundlePath, "--evidence", x.evidencePath, "--trust-root", x.trustRootPath}, &stdout, io.Discard)
			if (err == nil) != tt.wantVerified {
				t.Fatalf("error %v, want verified %v", err, tt.wantVerified)
			}
			var got JSONReport
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
			}
			if got.Verified != tt.wantVerified || len(got.Events) != tt.wantEvents {
				t.Errorf("verified %v with %d events, want %v with %d", got.Verified, len(got.Events), tt.wantVerified, tt.wantEvents)
			}
			if tt.wantVerified && (!got.ContentChecked || got.EvidenceID != "ev-abcdefghijklmnopqrstuvwxyz" || got.Events[1].LegalBasis != "MLAT 2026/17") {
				t.Errorf("report %+v lacks content check, evidence id or legal basis", got)
			}
			if !tt.wantVerified && got.Error == "" {
				t.Errorf("failed report has no error")
			}
			if !tt.wantVerified && (!got.Events[1].Verified || got.Events[2].Verified || got.Events[2].Failure == "") {
				t.Errorf("got events %+v, want event 1 verified and event 2 failed with a reason", got.Events)
			}
		})
	}
}

func cloneBundle(t *testing.T, b *custody.Bundle) *custody.Bundle {
	t.Helper()
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := custody.ParseBundle(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args      []string
		wantPos   []string
		wantJSON  bool
		wantTo    string
		wantUsage bool
	}{
		{args: []string{"ev-1", "--to", "us", "--json"}, wantPos: []string{"ev-1"}, wantJSON: true, wantTo: "us"},
		{args: []string{"--to", "us", "ev-1"}, wantPos: []string{"ev-1"}, wantTo: "us"},
		{args: []string{"--to=us", "ev-1", "--json", "ev-2"}, wantPos: []string{"ev-1", "ev-2"}, wantJSON: true, wantTo: "us"},
		{args: []string{"--json", "--", "-odd", "--to"}, wantPos: []string{"-odd", "--to"}, wantJSON: true},
		{args: []string{}, wantPos: nil},
		{args: []string{"ev-1", "--unknown"}, wantUsage: true},
		{args: []string{"ev-1", "--to"}, wantUsage: true},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		jsonOut := fs.Bool("json", false, "")
		to := fs.String("to", "", "")
		pos, err := ParseArgs(fs, tt.args)
		if tt.wantUsage {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Errorf("ParseArgs(%q) error %v, want a usage error", tt.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", tt.args, err)
			continue
		}
		if !slices.Equal(pos, tt.wantPos) || *jsonOut != tt.wantJSON || *to != tt.wantTo {
			t.Errorf("ParseArgs(%q) = %q, json %v, to %q; want %q, %v, %q", tt.args, pos, *jsonOut, *to, tt.wantPos, tt.wantJSON, tt.wantTo)
		}
	}
}
