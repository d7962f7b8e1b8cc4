package policy

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"
)

// defaultPolicies is the policy set used when Config.Dir is empty.
//
//go:embed *.cedar
var defaultPolicies embed.FS

// Config configures an [Engine].
type Config struct {
	// Dir is a directory whose *.cedar files (not its subdirectories) form
	// the policy set, replacing the defaults entirely. Empty means the
	// default policies embedded in this package.
	Dir string
	// Instruments is the instrument table file (docs/exchange.md), replacing the
	// shipped one (instruments.json); empty means the shipped one.
	Instruments string
}

// An Engine evaluates a fixed policy set. Create one with [New]; it is safe
// for concurrent use.
type Engine struct {
	policies    *cedar.PolicySet
	instruments *Instruments
}

// New loads the policy set named by cfg.
//
// Every policy must carry an @id("...") annotation, unique across all files;
// the id names the policy in decisions. A file that does not parse, a
// missing or duplicate id, and a set without any policy are errors; errors
// about a file are a *[LoadError] naming it.
func New(cfg Config) (*Engine, error) {
	var (
		fsys fs.FS = defaultPolicies
		dir        = ""
	)
	if cfg.Dir != "" {
		if _, err := os.Stat(cfg.Dir); err != nil {
			return nil, fmt.Errorf("reading policy directory: %w", err)
		}
		fsys, dir = os.DirFS(cfg.Dir), cfg.Dir
	}
	set, err := load(fsys, dir)
	if err != nil {
		return nil, err
	}
	ins, err := LoadInstruments(cfg.Instruments)
	if err != nil {
		return nil, err
	}
	return &Engine{policies: set, instruments: ins}, nil
}

// A LoadError reports a policy file that could not be loaded.
type LoadError struct {
	File string // path of the file, as given in Config.Dir joined with its name
	Err  error
}

func (e *LoadError) Error() string {
	// cedar-go reports parse positions as "<input>:line:column"; name the
	// file instead so the message points at the right place.
	msg := strings.ReplaceAll(e.Err.Error(), "<input>:", e.File+":")
	return fmt.Sprintf("loading policy file %s: %s", e.File, msg)
}

func (e *LoadError) Unwrap() error { return e.Err }

// load parses every *.cedar file at the top of fsys into one policy set.
// dir only names the files in errors.
func load(fsys fs.FS, dir string) (*cedar.PolicySet, error) {
	where := dir
	if where == "" {
		where = "embedded defaults"
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("listing policy files in %s: %w", where, err)
	}
	set := cedar.NewPolicySet()
	seen := make(map[cedar.PolicyID]cedar.Position)
	for _, entry := range entries { // sorted by name
		name := entry.Name()
		if entry.IsDir() || !strings.HasSuffix(name, ".cedar") {
			continue
		}
		file := filepath.Join(dir, name)
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, &LoadError{File: file, Err: err}
		}
		if err := addFile(set, seen, file, src); err != nil {
			return nil, err
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("loading policies from %s: no policy found in *.cedar files", where)
	}
	return set, nil
}

// addFile parses src, the contents of file, and adds its policies to set
// under their @id. seen records where each id was defined.
func addFile(set *cedar.PolicySet, seen map[cedar.PolicyID]cedar.Position, file string, src []byte) error {
	list, err := cedar.NewPolicyListFromBytes(file, src)
	if err != nil {
		return &LoadError{File: file, Err: err}
	}
	for _, p := range list {
		pos := p.Position()
		id := cedar.PolicyID(p.Annotations()["id"])
		if id == "" {
			return &LoadError{File: file, Err: fmt.Errorf("%s:%d:%d: policy has no @id annotation", file, pos.Line, pos.Column)}
		}
		if prev, dup := seen[id]; dup {
			return &LoadError{File: file, Err: fmt.Errorf("%s:%d:%d: duplicate policy id %q, first defined at %s:%d:%d",
				file, pos.Line, pos.Column, id, prev.Filename, prev.Line, prev.Column)}
		}
		seen[id] = pos
		set.Add(id, p)
	}
	return nil
}
