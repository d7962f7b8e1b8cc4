package policy

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// writeDir writes files (name to contents) to a new directory.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const allowAll = `@id("allow-all") permit (principal, action, resource);`

func TestNewDefaults(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatalf("New(Config{}): %v", err)
	}
	var ids []string
	for id := range e.policies.All() {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	want := []string{
		"court-dispose",
		"court-history",
		"forbid-dispose-by-others",
		"forbid-dispose-without-authority",
		"forbid-download-instrument",
		"forbid-download-limit",
		"forbid-download-not-accepted",
		"forbid-download-view-only",
		"forbid-emergency-deadline-too-late",
		"forbid-emergency-without-procedure",
		"forbid-expired-grant",
		"forbid-repeated-accept",
		"forbid-revoked-grant",
		"grantee-accept",
		"grantee-download",
		"grantee-read",
		"grantee-receive",
		"owner-dispose",
		"owner-investigator",
		"request-addressee-answer",
		"request-file",
		"request-parties-read",
		"request-requester-withdraw",
	}
	if !slices.Equal(ids, want) {
		t.Errorf("default policy ids: got %q, want %q", ids, want)
	}
}

func TestNewDirReplacesDefaults(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"all.cedar":    allowAll,
		"notes.txt":    "not a policy",
		"README.cedar": "// comments only: no policy, still fine\n",
	})
	e, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	d := e.Decide(stranger, ActionDownload, Evidence{ID: "ev-1", Owner: "de-bka"}, now)
	if !d.Allow || !d.Visible {
		t.Errorf("Allow, Visible: got %v, %v, want true, true", d.Allow, d.Visible)
	}
	if want := []string{"allow-all"}; !slices.Equal(d.Policies, want) {
		t.Errorf("Policies: got %q, want %q", d.Policies, want)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		file  string   // LoadError.File base name, "" if not a LoadError
		want  []string // substrings of the message
	}{
		{
			name: "syntax error",
			files: map[string]string{
				"a-good.cedar": allowAll,
				"bad.cedar":    "@id(\"x\")\npermit (principal, action, resource)\nwhen { context.grant.exists = true };\n",
			},
			file: "bad.cedar",
			want: []string{"bad.cedar:3:"},
		},
		{
			name:  "missing id",
			files: map[string]string{"noid.cedar": "\n\npermit (principal, action, resource);"},
			file:  "noid.cedar",
			want:  []string{"noid.cedar:3:1", "no @id"},
		},
		{
			name:  "empty id",
			files: map[string]string{"emptyid.cedar": `@id("") permit (principal, action, resource);`},
			file:  "emptyid.cedar",
			want:  []string{"emptyid.cedar:1:1", "no @id"},
		},
		{
			name: "duplicate id",
			files: map[string]string{
				"a.cedar": allowAll,
				"b.cedar": "// again\n" + allowAll,
			},
			file: "b.cedar",
			want: []string{"b.cedar:2:1", `duplicate policy id "allow-all"`, "a.cedar:1:1"},
		},
		{
			name:  "no policies",
			files: map[string]string{"x.txt": allowAll},
			want:  []string{"no policy found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			_, err := New(Config{Dir: dir})
			if err == nil {
				t.Fatal("New: got no error, want one")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: got %q, want it to contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error: got %q, want it to name the directory %s", err, dir)
			}
			var le *LoadError
			switch {
			case tt.file == "" && errors.As(err, &le):
				t.Errorf("error: got *LoadError for %s, want another error", le.File)
			case tt.file != "" && !errors.As(err, &le):
				t.Errorf("error: got %T, want *LoadError", err)
			case tt.file != "" && le.File != filepath.Join(dir, tt.file):
				t.Errorf("LoadError.File: got %q, want %q", le.File, filepath.Join(dir, tt.file))
			}
		})
	}
}

func TestNewMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := New(Config{Dir: dir})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("New: got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

// A policy that fails to evaluate must not let a request through: Cedar
// skips it, Decide denies.
func TestDecideFailsClosed(t *testing.T) {
	dir := writeDir(t, map[string]string{"p.cedar": allowAll + `
@id("broken-forbid") forbid (principal, action, resource) when { context.no_such_attribute };
`})
	e, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	d := e.Decide(owner, ActionView, Evidence{ID: "ev-1", Owner: "de-bka"}, now)
	if d.Allow {
		t.Errorf("Allow: got true, want false")
	}
	if len(d.Policies) != 0 {
		t.Errorf("Policies: got %q, want none", d.Policies)
	}
	if len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "broken-forbid: ") {
		t.Errorf("Errors: got %q, want one for broken-forbid", d.Errors)
	}
}

// FuzzLoad feeds arbitrary policy text to the loader and evaluates whatever
// loads: neither may panic.
func FuzzLoad(f *testing.F) {
	embedded, err := fs.ReadDir(defaultPolicies, ".")
	if err != nil {
		f.Fatal(err)
	}
	for _, entry := range embedded {
		src, err := fs.ReadFile(defaultPolicies, entry.Name())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(allowAll))
	f.Add([]byte(`@id("a") forbid (principal in Agency::"x", action, resource) when { context.now > 1 } unless { resource.owner == principal.agency };`))
	f.Add([]byte(`@id("a") permit (principal, action, resource) when { context.grant.id like "g*" && principal.jurisdiction.isEmpty() };`))
	f.Add([]byte(`@id("a") permit (principal, action, resource) when { ip("10.0.0.1").isLoopback() && decimal("1.5") < decimal("2") };`))
	f.Add([]byte("@id(\"\xff\") permit"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, src []byte) {
		set, err := load(fstest.MapFS{"fuzz.cedar": {Data: src}}, "")
		if err != nil {
			if err.Error() == "" {
				t.Errorf("empty error message")
			}
			return
		}
		e := &Engine{policies: set}
		ev := Evidence{ID: "ev-1", Owner: "de-bka", Grants: []Grant{
			grant("g1", "fr-police", accepted),
			grant("g2", "fr-police", all(revoked, expired)),
		}}
		for _, p := range []Principal{owner, partner, court, stranger} {
			for _, a := range []Action{ActionView, ActionAccept, ActionDownload} {
				e.Decide(p, a, ev, now)
			}
		}
	})
}

// TestDocExamples parses every ```cedar block of docs/policy.md, so the
// examples there keep loading.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```cedar\n")[1:]
	if len(blocks) == 0 {
		t.Fatal("docs/policy.md: got no ```cedar block, want at least one")
	}
	for i, b := range blocks {
		src, _, _ := strings.Cut(b, "```")
		if _, err := load(fstest.MapFS{"doc.cedar": {Data: []byte(src)}}, ""); err != nil {
			t.Errorf("docs/policy.md cedar block %d: %v", i+1, err)
		}
	}
}
