package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
	"github.com/evidencegw/evidencegw/pki"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// runCLI runs the command line args in env, with its output captured, and returns the
// output and the exit status.
func runCLI(t *testing.T, env clientEnv, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env.stdout, env.stderr = &out, &errb
	code = execute(t.Context(), newRootCmd(env), args)
	return out.String(), errb.String(), code
}

func testEnv(identity string) clientEnv {
	return clientEnv{
		getenv: func(k string) string {
			switch k {
			case identityEnv:
				return identity
			case stateDirEnv:
				return filepath.Join(os.TempDir(), "evidencegw-cli-test-state")
			}
			return ""
		},
		now: func() time.Time { return testNow },
	}
}

func TestParseExpires(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-12-31", want: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)},
		{in: "2026-06-01", want: time.Date(2026, 6, 1, 23, 59, 59, 0, time.UTC)},
		{in: "2026-12-31T18:00:00+02:00", want: time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC)},
		{in: "2026-07-01T00:00:00Z", want: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
		{in: "30d", want: testNow.Add(30 * 24 * time.Hour)},
		{in: "12h", want: testNow.Add(12 * time.Hour)},
		{in: "2w", want: testNow.Add(14 * 24 * time.Hour)},
		{in: "1d", want: time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC)},
		{in: "0d", wantErr: true},
		{in: "-3d", wantErr: true},
		{in: "+3d", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "d", wantErr: true},
		{in: "tomorrow", wantErr: true},
		{in: "3 d", wantErr: true},
		{in: "30m", wantErr: true}, // minutes are no unit of --expires
		{in: "3y", wantErr: true},
		{in: "1h30m", wantErr: true},
		{in: "99999w", wantErr: true},
		{in: "2026-05-31", wantErr: true},           // past
		{in: "2026-06-01T12:00:00Z", wantErr: true}, // now
		{in: "31/12/2026", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseExpires(tt.in, testNow)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !got.Equal(tt.want)) {
			t.Errorf("parseExpires(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("parseExpires(%q) location %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	env := testEnv("")
	withID := testEnv(t.TempDir())
	tests := []struct {
		name string
		env  clientEnv
		args []string
		want string
	}{
		{"no command", env, nil, "missing command"},
		{"unknown command", env, []string{"uplod", "--case", "C1"}, `unknown command "uplod" for "evidencegw"; did you mean "upload"?`},
		{"unknown flag", env, []string{"--bogus"}, "unknown flag: --bogus"},
		{"upload without file", withID, []string{"upload", "--case", "C1"}, "missing FILE"},
		{"upload two files", withID, []string{"upload", "a", "--case", "C1", "b"}, `unexpected argument "b"`},
		{"upload without case", withID, []string{"upload", "a"}, `required flag(s) "case" not set`},
		{"upload flag without value", withID, []string{"upload", "a", "--case"}, "flag needs an argument: --case"},
		{"upload without identity", env, []string{"upload", "client_commands_test.go", "--case", "C1"}, "no identity"},
		{"share without expiry", withID, []string{"share", "ev-x", "--to", "us", "--legal-basis", "MLAT"}, `required flag(s) "expires" not set`},
		{"share expired", withID, []string{"share", "ev-x", "--to", "us", "--legal-basis", "MLAT", "--expires", "2020-01-01"}, "not in the future"},
		{"share bad date", withID, []string{"share", "ev-x", "--expires", "tomorrow", "--to", "us", "--legal-basis", "MLAT"}, `invalid argument "tomorrow" for "--expires" flag: neither a date`},
		{"share negative limit", withID, []string{"share", "ev-x", "--expires", "3d", "--to", "us", "--legal-basis", "MLAT", "--max-downloads", "-1"}, "must not be negative"},
		{"share bad limit", withID, []string{"share", "ev-x", "--expires", "3d", "--to", "us", "--legal-basis", "MLAT", "--max-downloads", "many"}, `invalid argument "many" for "--max-downloads" flag`},
		{"share unknown flag", withID, []string{"share", "ev-x", "--too", "us"}, "unknown flag: --too"},
		{"download without -o", withID, []string{"download", "ev-x"}, `required flag(s) "output" not set`},
		{"revoke without grant", withID, []string{"revoke", "ev-x"}, `required flag(s) "grant" not set`},
		{"whoami with argument", withID, []string{"whoami", "me"}, `unexpected argument "me"`},
		{"show without id", withID, []string{"show"}, "missing EVIDENCE-ID"},
		{"trust-root without -o", withID, []string{"trust-root"}, `required flag(s) "output" not set`},
		{"bundle bad format", withID, []string{"bundle", "ev-x", "-o", "b.json", "--format", "xml"}, `invalid argument "xml" for "--format" flag`},
		{"log alone", withID, []string{"log"}, "missing subcommand: checkpoint, fsck, monitor, snapshot"},
		{"log unknown", withID, []string{"log", "chekpoint"}, `did you mean "checkpoint"?`},
		{"log monitor without state", withID, []string{"log", "monitor", "--trust-root", "tr.json"}, `required flag(s) "state" not set`},
		{"keys alone", env, []string{"keys"}, "missing subcommand: rotate"},
		{"keys rotate without config", env, []string{"keys", "rotate"}, `required flag(s) "config" not set`},
		{"serve with argument", env, []string{"serve", "now"}, `unexpected argument "now"`},
		{"verify without trust root", env, []string{"verify", "bundle.json"}, `required flag(s) "trust-root" not set`},
		{"verify without bundle", env, []string{"verify", "--trust-root", "tr.json"}, "missing BUNDLE"},
		{"verify takes no identity", env, []string{"verify", "b.json", "--trust-root", "tr.json", "--identity", "x"}, "unknown flag: --identity"},
		{"version with argument", env, []string{"version", "x"}, `unexpected argument "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.env, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want none", stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "evidencegw: ") || !strings.Contains(lines[0], tt.want) ||
				!strings.HasPrefix(lines[1], "Run 'evidencegw") || !strings.HasSuffix(lines[1], " --help' for usage.") {
				t.Errorf("stderr %q, want the error with %q then the hint", stderr, tt.want)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	root := newRootCmd(testEnv(""))
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
		if cmd.Short == "" {
			t.Errorf("%s has no Short description", cmd.CommandPath())
		}
		// cobra's own completion and help commands have no examples.
		if cmd.Example == "" && !strings.Contains(cmd.CommandPath(), " completion") && cmd.Name() != "help" {
			t.Errorf("%s has no examples", cmd.CommandPath())
		}
		for _, flag := range []string{"--help", "-h"} {
			args := append(strings.Fields(cmd.CommandPath())[1:], flag)
			stdout, stderr, code := runCLI(t, testEnv(""), args...)
			if code != exitOK || stderr != "" || !strings.Contains(stdout, cmd.Short) {
				t.Errorf("evidencegw %q: exit code %d, stderr %q, stdout without %q", args, code, stderr, cmd.Short)
			}
		}
	}
	walk(root)
}

func TestClientFlagsOnlyOnClientCommands(t *testing.T) {
	root := newRootCmd(testEnv(""))
	for _, cmd := range root.Commands() {
		client := cmd.GroupID == groupClient
		for _, flag := range []string{"identity", "json"} {
			got := cmd.Flags().Lookup(flag) != nil || cmd.PersistentFlags().Lookup(flag) != nil
			want := client || (cmd.Name() == "verify" && flag == "json")
			if got != want {
				t.Errorf("%s has --%s: %v, want %v", cmd.Name(), flag, got, want)
			}
		}
	}
}

func TestVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runCLI(t, testEnv(""), "verify", filepath.Join(dir, "missing.json"), "--trust-root", filepath.Join(dir, "tr.json"))
	if code != exitFailed || !strings.HasPrefix(stderr, "evidencegw: could not verify: ") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("verify of missing files: exit code %d, stderr %q; want %d and one line saying it could not verify", code, stderr, exitFailed)
	}
}

func TestExitCode(t *testing.T) {
	run := func(err error) error { return &runError{err} }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"cobra's own error", errors.New(`required flag(s) "case" not set`), exitUsage},
		{"command's usage error", run(usagef("no identity")), exitUsage},
		{"verify's usage error", run(verifycmd.Usagef("--trust-root is required")), exitUsage},
		{"gateway unreachable", run(fmt.Errorf("uploading x: %w", errors.New("connection refused"))), exitFailed},
		{"gateway refused", run(fmt.Errorf("showing x: %w", &api.Problem{Type: api.ProblemBase + api.ProblemNotFound, Status: 404})), exitFailed},
		{"could not verify", run(&verifycmd.CannotVerifyError{Err: errors.New("reading bundle")}), exitFailed},
		{"bundle does not verify", run(fmt.Errorf("verifying b.json: %w", custody.ErrVerification)), exitVerificationFailed},
		{"log inconsistent", run(&custody.InconsistencyError{Reason: "fork"}), exitVerificationFailed},
		{"download fails its digest", run(&client.IntegrityError{EvidenceID: "ev-x"}), exitVerificationFailed},
		{"upload digest mismatch", run(fmt.Errorf("uploading x: %w", &api.Problem{Type: api.ProblemBase + api.ProblemDigestMismatch, Status: 422})), exitVerificationFailed},
		{"stored evidence corrupt", run(fmt.Errorf("downloading x: %w", &api.Problem{Type: api.ProblemBase + api.ProblemIntegrityFailure, Status: 500})), exitVerificationFailed},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

// cliGateway fakes the two endpoints the flag-order tests call.
type cliGateway struct {
	mu    sync.Mutex
	query string
	share api.ShareRequest
	// act is the Custody-Act header of the last share.
	act string
	// dispose is what the last disposal sent.
	dispose api.DisposeRequest
	// uploadProblem, if set, is the answer to uploads.
	uploadProblem *api.Problem
	// view, if set, is the answer to GET /v1/evidence/{id}.
	view *api.EvidenceView
}

func (g *cliGateway) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/evidence", func(w http.ResponseWriter, r *http.Request) {
		sum, _ := api.ParseDigest(r.Header.Get(api.HeaderContentDigest))
		g.mu.Lock()
		g.query = r.URL.RawQuery
		problem := g.uploadProblem
		g.mu.Unlock()
		if problem != nil {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", api.ProblemMediaType)
			w.WriteHeader(problem.Status)
			json.NewEncoder(w).Encode(problem)
			return
		}
		writeTestJSON(w, http.StatusCreated, api.UploadResult{
			Evidence: api.EvidenceView{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", CaseID: r.URL.Query().Get("case_id"), SHA256: hex.EncodeToString(sum)},
			Custody:  api.CustodyReceipt{Seq: 0, Action: "register", LogIndex: 7},
		})
	})
	// The resumable upload: tus creation, offset, append, and the registration.
	var sent int64
	mux.HandleFunc("POST /v1/uploads", func(w http.ResponseWriter, r *http.Request) {
		meta := map[string]string{}
		for _, kv := range strings.Split(r.Header.Get("Upload-Metadata"), ",") {
			k, v, _ := strings.Cut(kv, " ")
			b, _ := base64.StdEncoding.DecodeString(v)
			meta[k] = string(b)
		}
		g.mu.Lock()
		q := url.Values{}
		for k, v := range meta {
			q.Set(k, v)
		}
		g.query, sent = q.Encode(), 0
		g.mu.Unlock()
		w.Header().Set("Location", "/v1/uploads/up-aaaaaaaaaaaaaaaaaaaaaaaaaa")
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("HEAD /v1/uploads/{id}", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		w.Header().Set("Upload-Offset", strconv.FormatInt(sent, 10))
	})
	mux.HandleFunc("PATCH /v1/uploads/{id}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		g.mu.Lock()
		sent += n
		w.Header().Set("Upload-Offset", strconv.FormatInt(sent, 10))
		g.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/uploads/{id}/register", func(w http.ResponseWriter, r *http.Request) {
		sum, _ := api.ParseDigest(r.Header.Get(api.HeaderReprDigest))
		g.mu.Lock()
		problem, query := g.uploadProblem, g.query
		g.mu.Unlock()
		if problem != nil {
			w.Header().Set("Content-Type", api.ProblemMediaType)
			w.WriteHeader(problem.Status)
			json.NewEncoder(w).Encode(problem)
			return
		}
		writeTestJSON(w, http.StatusCreated, api.UploadResult{
			Evidence: api.EvidenceView{EvidenceID: "ev-abcdefghijklmnopqrstuvwxyz", CaseID: queryCase(query), SHA256: hex.EncodeToString(sum)},
			Custody:  api.CustodyReceipt{Seq: 0, Action: "register", LogIndex: 7},
		})
	})
	mux.HandleFunc("POST /v1/evidence/{id}/grants", func(w http.ResponseWriter, r *http.Request) {
		var req api.ShareRequest
		json.NewDecoder(r.Body).Decode(&req)
		g.mu.Lock()
		g.share = req
		g.act = r.Header.Get(api.HeaderCustodyAct)
		g.mu.Unlock()
		writeTestJSON(w, http.StatusCreated, api.GrantResult{
			Grant:   api.GrantView{GrantID: "gr-abcdefghijklmnop", To: req.To, LegalBasis: req.LegalBasis, Expires: req.Expires, MaxDownloads: req.MaxDownloads, State: api.GrantActive},
			Custody: api.CustodyReceipt{Seq: 1, Action: "share", LogIndex: 8},
		})
	})
	mux.HandleFunc("POST /v1/evidence/{id}/dispose", func(w http.ResponseWriter, r *http.Request) {
		var req api.DisposeRequest
		json.NewDecoder(r.Body).Decode(&req)
		g.mu.Lock()
		g.dispose = req
		g.mu.Unlock()
		writeTestJSON(w, http.StatusOK, api.DisposalResult{ContentDestroyed: true, DataKeysDestroyed: 2,
			Custody: api.CustodyReceipt{EvidenceID: r.PathValue("id"), Seq: 5, Action: "dispose", LogIndex: 12}})
	})
	mux.HandleFunc("GET /v1/evidence/{id}", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		v := g.view
		g.mu.Unlock()
		if v == nil {
			// What a client reads before it signs an act on the evidence.
			v = &api.EvidenceView{EvidenceID: r.PathValue("id"), CaseID: "CASE-7", SHA256: strings.Repeat("ab", 32)}
		}
		writeTestJSON(w, http.StatusOK, v)
	})
	return mux
}

// queryCase is the case_id of an upload's query (or its metadata, as a query).
func queryCase(query string) string {
	q, _ := url.ParseQuery(query)
	return q.Get("case_id")
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.JSONMediaType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// startCLIGateway starts a fake gateway under mutual TLS and writes a client identity
// for it; it returns the gateway and the identity directory.
func startCLIGateway(t *testing.T) (*cliGateway, string) {
	t.Helper()
	ca, err := pki.OpenDevCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueServer([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := pki.ServerTLSConfig(certPEM, keyPEM, ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	g := &cliGateway{}
	srv := httptest.NewUnstartedServer(g.handler())
	srv.TLS = serverTLS
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert, key, err := ca.IssueClient(pkix.Name{CommonName: "alice", Organization: []string{"police-fr"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "alice")
	if err := pki.WriteIdentity(dir, pki.Identity{CertPEM: cert, KeyPEM: key, CAPEM: ca.CertPEM(), GatewayURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	return g, dir
}

func TestUploadFlagOrder(t *testing.T) {
	g, idDir := startCLIGateway(t)
	file := filepath.Join(t.TempDir(), "phone.bin")
	content := []byte("phone extraction")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	orders := [][]string{
		{"--identity", idDir, "--case", "CASE-7", "--json", file},
		{file, "--case", "CASE-7", "--json", "--identity", idDir},
		{"--case=CASE-7", file, "--identity", idDir, "--json"},
	}
	for _, args := range orders {
		stdout, stderr, code := runCLI(t, testEnv(""), append([]string{"upload"}, args...)...)
		if code != exitOK {
			t.Fatalf("upload %q: exit code %d, %s", args, code, stderr)
		}
		var out struct {
			EvidenceID string             `json:"evidence_id"`
			CaseID     string             `json:"case_id"`
			SHA256     string             `json:"sha256"`
			Custody    api.CustodyReceipt `json:"custody"`
		}
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("upload %q: output is not JSON: %v\n%s", args, err, stdout)
		}
		if out.EvidenceID == "" || out.CaseID != "CASE-7" || out.SHA256 != hex.EncodeToString(sum[:]) || out.Custody.Action != "register" {
			t.Errorf("upload %q: output %+v, want evidence id, case CASE-7, the file's digest and the register event", args, out)
		}
		if g.query != "case_id=CASE-7" {
			t.Errorf("upload %q: gateway got query %q, want case_id=CASE-7", args, g.query)
		}
	}
}

func TestShareCommand(t *testing.T) {
	g, idDir := startCLIGateway(t)
	stdout, stderr, code := runCLI(t, testEnv(idDir), "share", "--to", "agency-us", "ev-abcdefghijklmnopqrstuvwxyz",
		"--legal-basis", "MLAT 2026/17", "--expires", "2026-12-31", "--max-downloads", "3", "--json")
	if code != exitOK {
		t.Fatalf("share: exit code %d, %s", code, stderr)
	}
	want := api.ShareRequest{To: "agency-us", LegalBasis: "MLAT 2026/17", Expires: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), MaxDownloads: 3}
	if g.share != want {
		t.Errorf("gateway got %+v, want %+v", g.share, want)
	}
	sa, err := api.ParseAct(g.act)
	if err != nil || sa == nil {
		t.Fatalf("the share's act: %v", err)
	}
	payload, _ := sa.Envelope.PayloadBytes()
	st, err := custody.ParseActStatement(payload)
	if err != nil || st.Predicate.Action != custody.ActionShare || st.Predicate.Terms == nil || st.Predicate.Terms.MaxDownloads != 3 || st.SHA256() != strings.Repeat("ab", 32) {
		t.Errorf("the share's act: %+v (%v), want a share of the registered content with its terms", st, err)
	}
	var out struct {
		GrantID    string `json:"grant_id"`
		EvidenceID string `json:"evidence_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.GrantID != "gr-abcdefghijklmnop" || out.EvidenceID == "" {
		t.Errorf("output %s (%v), want an object with grant_id and evidence_id", stdout, err)
	}

	stdout, stderr, code = runCLI(t, testEnv(idDir), "share", "ev-abcdefghijklmnopqrstuvwxyz", "--to", "agency-us",
		"--legal-basis", "EIO 12", "--expires", "2026-12-31T10:00:00Z", "--view-only")
	if code != exitOK {
		t.Fatalf("share: exit code %d, %s", code, stderr)
	}
	for _, w := range []string{"granted grant gr-abcdefghijklmnop", "agency-us", `"EIO 12"`, "custody: event 1 (share)"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}

	_, stderr, code = runCLI(t, testEnv(idDir), "share", "ev-abcdefghijklmnopqrstuvwxyz", "--to", "agency-us",
		"--legal-basis", "EIO 12", "--expires", "30d")
	if want := testNow.Add(30 * 24 * time.Hour); code != exitOK || !g.share.Expires.Equal(want) {
		t.Errorf("share --expires 30d: exit code %d (%s), gateway got expiry %v, want %v", code, stderr, g.share.Expires, want)
	}
}

func TestUploadQuiet(t *testing.T) {
	_, idDir := startCLIGateway(t)
	file := filepath.Join(t.TempDir(), "phone.bin")
	if err := os.WriteFile(file, []byte("phone extraction"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testEnv(idDir)
	env.terminal = true // no progress bar all the same
	stdout, stderr, code := runCLI(t, env, "upload", "-q", "--case", "CASE-7", file)
	if code != exitOK || stdout != "ev-abcdefghijklmnopqrstuvwxyz\n" || stderr != "" {
		t.Errorf("upload -q: exit code %d, stdout %q, stderr %q; want 0, only the evidence id and nothing on stderr", code, stdout, stderr)
	}
}

func TestGatewayErrors(t *testing.T) {
	g, idDir := startCLIGateway(t)
	file := filepath.Join(t.TempDir(), "phone.bin")
	if err := os.WriteFile(file, []byte("phone extraction"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		problem  api.Problem
		wantCode int
	}{
		{"digest mismatch", api.NewProblem(api.ProblemDigestMismatch, http.StatusUnprocessableEntity, "the bytes do not match their Content-Digest"), exitVerificationFailed},
		{"forbidden", api.NewProblem(api.ProblemForbidden, http.StatusForbidden, "not allowed"), exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.mu.Lock()
			g.uploadProblem = &tt.problem
			g.mu.Unlock()

			stdout, stderr, code := runCLI(t, testEnv(idDir), "upload", "--case", "CASE-7", file)
			if code != tt.wantCode || stdout != "" || !strings.HasPrefix(stderr, "evidencegw: uploading "+file+": ") ||
				!strings.HasSuffix(stderr, tt.problem.Error()+"\n") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("upload: exit code %d, stdout %q, stderr %q; want %d and one line with the problem", code, stdout, stderr, tt.wantCode)
			}

			stdout, stderr, code = runCLI(t, testEnv(idDir), "upload", "--case", "CASE-7", file, "--json")
			var got struct {
				Error struct {
					Message  string       `json:"message"`
					ExitCode int          `json:"exit_code"`
					Problem  *api.Problem `json:"problem"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(stderr), &got); err != nil || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("upload --json: stderr %q is not one line of JSON: %v", stderr, err)
			}
			if code != tt.wantCode || stdout != "" || got.Error.ExitCode != tt.wantCode || got.Error.Problem == nil ||
				*got.Error.Problem != tt.problem || !strings.Contains(got.Error.Message, tt.problem.Detail) {
				t.Errorf("upload --json: exit code %d, stdout %q, error %+v; want %d and the problem %+v", code, stdout, got.Error, tt.wantCode, tt.problem)
			}
		})
	}
}

func TestJSONUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"upload", "-q", "--json", "--case", "C", "f"}, "if any flags in the group [quiet json] are set none of the others can be; [json quiet] were all set"},
		{[]string{"uplod", "--json"}, `unknown command \"uplod\" for \"evidencegw\"; did you mean \"upload\"?`},
		{[]string{"upload", "--json", "--cas", "C", "f"}, "unknown flag: --cas"},
		{[]string{"verify", "--json", "b.json"}, `required flag(s) \"trust-root\" not set`},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, testEnv(""), tt.args...)
		want := `{"error":{"message":"` + tt.want + `","exit_code":2}}` + "\n"
		if code != exitUsage || stdout != "" || stderr != want {
			t.Errorf("evidencegw %q: exit code %d, stdout %q, stderr %q; want %d and %q", tt.args, code, stdout, stderr, exitUsage, want)
		}
	}
}

func TestJSONErrorWithoutProblem(t *testing.T) {
	_, stderr, code := runCLI(t, testEnv(""), "upload", "--json", "--case", "C", filepath.Join(t.TempDir(), "missing.bin"))
	var got map[string]map[string]any
	if err := json.Unmarshal([]byte(stderr), &got); err != nil {
		t.Fatalf("stderr %q is not JSON: %v", stderr, err)
	}
	if code != exitFailed || got["error"]["exit_code"] != float64(exitFailed) || got["error"]["problem"] != nil ||
		!strings.Contains(got["error"]["message"].(string), "no such file") {
		t.Errorf("upload of a missing file: exit code %d, stderr %s; want %d, the message and no problem", code, stderr, exitFailed)
	}
}
