package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

func TestUploadForensicFlags(t *testing.T) {
	g, idDir := startCLIGateway(t)
	file := filepath.Join(t.TempDir(), "laptop.E01")
	if err := os.WriteFile(file, []byte("image"), 0o600); err != nil {
		t.Fatal(err)
	}
	md5 := "9E107D9D372BB6826BD81D3542A419D6"
	_, stderr, code := runCLI(t, testEnv(idDir), "upload", "--case", "CASE-7", "--exhibit-number", "NL-0042-EX3",
		"--md5", md5, "--sha1", strings.Repeat("ab", 20), "--tool", "FTK Imager", "--tool-version", "4.7.1",
		"--examiner", "J. de Vries", "--seized-at", "2026-03-01T07:30:00+01:00", "--seized-place", "Rotterdam",
		"--notes", "write blocker used", "-q", file)
	if code != exitOK {
		t.Fatalf("upload: exit code %d, %s", code, stderr)
	}
	q, err := url.ParseQuery(g.query)
	if err != nil {
		t.Fatal(err)
	}
	got, err := api.ParseAcquisitionQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	seized := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
	want := &custody.Acquisition{ExhibitNumber: "NL-0042-EX3", Tool: "FTK Imager", ToolVersion: "4.7.1",
		Examiner: "J. de Vries", SeizedAt: &seized, SeizedPlace: "Rotterdam", Notes: "write blocker used",
		SourceHashes: map[string]string{"md5": strings.ToLower(md5), "sha1": strings.Repeat("ab", 20)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("gateway got acquisition %+v, want %+v", got, want)
	}

	for _, bad := range [][]string{
		{"--md5", "abc"},
		{"--sha1", strings.Repeat("z", 40)},
		{"--sha256", strings.Repeat("a", 63)},
		{"--seized-at", "2026-03-01"},
		{"--tool-version", "4.7.1"},
	} {
		g.query = ""
		_, stderr, code := runCLI(t, testEnv(idDir), append([]string{"upload", "--case", "CASE-7", file}, bad...)...)
		if code != exitUsage || g.query != "" {
			t.Errorf("upload %q: exit code %d (%s), gateway got %q; want a usage error and nothing sent", bad, code, stderr, g.query)
		}
	}
}

func TestDisposeCommand(t *testing.T) {
	g, idDir := startCLIGateway(t)
	const id = "ev-abcdefghijklmnopqrstuvwxyz"
	stdout, stderr, code := runCLI(t, testEnv(idDir), "dispose", id, "--authority", "court order 2036/17")
	if code != exitOK {
		t.Fatalf("dispose: exit code %d, %s", code, stderr)
	}
	if g.dispose.Authority != "court order 2036/17" {
		t.Errorf("gateway got %+v, want the authority", g.dispose)
	}
	for _, w := range []string{id + ` is disposed of under "court order 2036/17"`, "content destroyed yes, 2 data-key version(s) destroyed", "custody: event 5 (dispose)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	stdout, _, code = runCLI(t, testEnv(idDir), "dispose", id, "--authority", "x", "--json")
	var out api.DisposalResult
	if err := json.Unmarshal([]byte(stdout), &out); code != exitOK || err != nil || out.Custody.Action != "dispose" || out.DataKeysDestroyed != 2 {
		t.Errorf("dispose --json: exit code %d, output %s (%v)", code, stdout, err)
	}
	for _, args := range [][]string{{"dispose", id}, {"dispose", id, "--authority", " "}} {
		g.dispose = api.DisposeRequest{}
		if _, _, code := runCLI(t, testEnv(idDir), args...); code != exitUsage || g.dispose.Authority != "" {
			t.Errorf("%q: exit code %d, gateway got %+v; want a usage error and nothing sent", args, code, g.dispose)
		}
	}
}

func TestShowPrintsForensicFactsAndDisposal(t *testing.T) {
	g, idDir := startCLIGateway(t)
	seized := time.Date(2026, 3, 1, 6, 30, 0, 0, time.UTC)
	until := time.Date(2036, 3, 1, 6, 30, 0, 0, time.UTC)
	g.view = &api.EvidenceView{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", CaseID: "CASE-7", Owner: "agency-nl", Jurisdiction: "NL",
		Acquisition: &custody.Acquisition{ExhibitNumber: "NL-0042-EX3", Tool: "FTK Imager", ToolVersion: "4.7.1", Examiner: "J. de Vries",
			SeizedAt: &seized, SeizedPlace: "Rotterdam", SourceHashes: map[string]string{"md5": strings.Repeat("0a", 16)}},
		RetainUntil: &until, LegalHold: true,
		Disposal: &api.DisposalView{Seq: 5, Time: until.Add(time.Hour), By: custody.Party{Agency: "agency-nl"}, Authority: "court order 17"}}
	stdout, stderr, code := runCLI(t, testEnv(idDir), "show", "ev-abcdefghijklmnopqrstuvwxyz")
	if code != exitOK {
		t.Fatalf("show: exit code %d, %s", code, stderr)
	}
	for _, w := range []string{"Exhibit number  NL-0042-EX3", "Source MD5      " + strings.Repeat("0a", 16), "Tool            FTK Imager 4.7.1",
		"Examiner        J. de Vries", "Seized at       2026-03-01T06:30:00Z", "Seized in       Rotterdam", "Retained until  2036-03-01T06:30:00Z",
		"Legal hold      yes", `Disposed of     2036-03-01T07:30:00Z by agency-nl under "court order 17" (event 5)`} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
}
