package verifycmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/report/reporttest"
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
		wantNot  []string
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
			wantCode: ExitVerificationFailed,
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
			wantCode: ExitVerificationFailed,
			want:     []string{"register", "FAILED: verifying", "event 1", "no trusted signature"},
		},
		{
			name:     "event removed",
			args:     []string{x.bundlePath, "--trust-root", x.trustRootPath},
			tamper:   func(b *custody.Bundle) { b.Events = slices.Delete(b.Events, 1, 2) },
			wantCode: ExitVerificationFailed,
			want:     []string{"FAILED:", "missing or out of order"},
		},
		{
			name:     "no bundle argument",
			args:     []string{"--trust-root", x.trustRootPath},
			wantCode: ExitUsage,
		},
		{
			name: "two bundles of one log",
			args: []string{x.bundlePath, x.bundlePath, "--trust-root", x.trustRootPath},
			want: []string{"Also verified", "tree sizes [3] agree"},
		},
		{
			name:     "no trust root",
			args:     []string{x.bundlePath},
			wantCode: ExitUsage,
		},
		{
			name:     "missing bundle file",
			args:     []string{filepath.Join(x.dir, "missing.json"), "--trust-root", x.trustRootPath},
			wantCode: ExitFailed,
			wantNot:  []string{"RESULT"},
		},
		{
			name:     "second bundle missing",
			args:     []string{x.bundlePath, filepath.Join(x.dir, "missing.json"), "--trust-root", x.trustRootPath},
			wantCode: ExitFailed,
			want:     []string{"accept", "verified", "RESULT  COULD NOT VERIFY: reading bundle"},
			wantNot:  []string{"RESULT  FAILED", "agree"},
		},
		{
			name:     "trust root not parsable",
			args:     []string{x.bundlePath, "--trust-root", x.bundlePath},
			wantCode: ExitFailed,
			wantNot:  []string{"RESULT"},
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
			if tt.wantCode == ExitVerificationFailed && !IsVerificationFailure(err) {
				t.Errorf("error %v does not wrap custody.ErrVerification", err)
			}
			var cv *CannotVerifyError
			if tt.wantCode == ExitFailed && !errors.As(err, &cv) {
				t.Errorf("error %v is not a *CannotVerifyError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(stdout.String(), w) {
					t.Errorf("output contains %q:\n%s", w, stdout.String())
				}
			}
		})
	}
}

func TestMain_JSON(t *testing.T) {
	// A digest that is no event's: event 2 is validly signed and logged, but its Prev
	// does not name event 1.
	otherPrev := custody.Digest([]byte("not event 1"))
	tests := []struct {
		name string
		// opts sign the events; tamper changes the signed bundle.
		opts         reporttest.Options
		tamper       func(b *custody.Bundle)
		wantVerified bool
		wantEvents   int
		// wantFailure is event 2's failure (after "custody verification failed: "),
		// with %s for the digest of event 1.
		wantFailure string
	}{
		{name: "good", wantVerified: true, wantEvents: 3},
		{
			name: "chain broken at event 2",
			opts: reporttest.Options{Edit: func(i int, ev *custody.Event) {
				if i == 2 {
					ev.Prev = otherPrev
				}
			}},
			wantEvents:  3,
			wantFailure: "previous digest " + otherPrev + " does not match event 1 (%s): the chain is broken",
		},
		{
			name:        "event 2 replaced by event 1",
			tamper:      func(b *custody.Bundle) { b.Events[2] = b.Events[1] },
			wantEvents:  3,
			wantFailure: "has sequence number 1 at position 2: events are missing or out of order",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newTestExhibitWith(t, tt.opts)
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
				t.Fatalf("verified %v with %d events, want %v with %d", got.Verified, len(got.Events), tt.wantVerified, tt.wantEvents)
			}
			if tt.wantVerified {
				if !got.ContentChecked || got.EvidenceID != "ev-abcdefghijklmnopqrstuvwxyz" || got.Events[1].LegalBasis != "MLAT 2026/17" {
					t.Errorf("report %+v lacks content check, evidence id or legal basis", got)
				}
				return
			}
			if !IsVerificationFailure(err) || ExitCode(err) != ExitVerificationFailed {
				t.Errorf("error %v (exit code %d), want a verification failure (exit code %d)", err, ExitCode(err), ExitVerificationFailed)
			}
			failure := custody.ErrVerification.Error() + ": " + tt.wantFailure
			if strings.Contains(failure, "%s") {
				failure = fmt.Sprintf(failure, got.Events[1].Digest)
			}
			if !got.Events[1].Verified || got.Events[2].Verified || got.Events[2].Failure != failure {
				t.Errorf("got events 1 and 2 verified %v and %v, failure of event 2 %q; want only event 2 failed with %q",
					got.Events[1].Verified, got.Events[2].Verified, got.Events[2].Failure, failure)
			}
			if want := "verifying " + x.bundlePath + ": event 2: " + failure; got.Error != want {
				t.Errorf("got error %q, want %q", got.Error, want)
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

func TestCommand(t *testing.T) {
	x := newTestExhibit(t)
	missing := filepath.Join(x.dir, "missing.json")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"--help"}, ExitOK, "Usage: custody-verify BUNDLE", ""},
		{"short help", []string{"-h"}, ExitOK, "Exit status:", ""},
		{"flags between arguments", []string{"--trust-root=" + x.trustRootPath, x.bundlePath, "--evidence", x.evidencePath},
			ExitOK, "VERIFIED: 3 events", ""},
		{"end of flags", []string{"--trust-root", x.trustRootPath, "--", x.bundlePath}, ExitOK, "VERIFIED", ""},
		{"unknown flag", []string{x.bundlePath, "--trust-rot", x.trustRootPath}, ExitUsage, "",
			"custody-verify: unknown flag: --trust-rot\nRun 'custody-verify --help' for usage.\n"},
		{"flag without value", []string{x.bundlePath, "--trust-root"}, ExitUsage, "", "flag needs an argument"},
		{"missing bundle", []string{missing, "--trust-root", x.trustRootPath}, ExitFailed, "",
			"custody-verify: could not verify: reading bundle: open " + missing + ": no such file or directory\n"},
		{"JSON error", []string{"--json", missing, "--trust-root", x.trustRootPath}, ExitFailed, `"verified": false`,
			`{"error":{"message":"could not verify: reading bundle: open ` + missing + `: no such file or directory","exit_code":1}}` + "\n"},
		{"JSON usage error", []string{"--json", "--trust-root", x.trustRootPath}, ExitUsage, "",
			`{"error":{"message":"missing BUNDLE","exit_code":2}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Command(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstderr: %s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantStdout, stdout.String())
			}
			if tt.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr %q, want none", stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
