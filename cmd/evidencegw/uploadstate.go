package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/evidencegw/evidencegw/client"
)

// stateDirEnv names the environment variable of the upload state directory.
const stateDirEnv = "EVIDENCEGW_STATE_DIR"

// maxStateFile bounds an upload state file read back.
const maxStateFile = 1 << 20

// stateDir returns the directory of the upload state files: the flag, else
// $EVIDENCEGW_STATE_DIR, else $XDG_STATE_HOME/evidencegw, else
// ~/.local/state/evidencegw (the XDG base directory default).
func (a *app) stateDir(flag string) (string, error) {
	switch {
	case flag != "":
		return flag, nil
	case a.env.getenv(stateDirEnv) != "":
		return a.env.getenv(stateDirEnv), nil
	case a.env.getenv("XDG_STATE_HOME") != "":
		return filepath.Join(a.env.getenv("XDG_STATE_HOME"), "evidencegw"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", usagef("no state directory: give --state-dir DIR or set $%s (%v)", stateDirEnv, err)
	}
	return filepath.Join(home, ".local", "state", "evidencegw"), nil
}

// uploadStateFile keeps a resumable upload's state in <dir>/uploads/<key>.json (mode
// 0600), where key is a hash of what makes it the same upload: the identity, the
// file's absolute path, size and modification time, the case and the description. A
// file changed since (another size or time) is another upload.
type uploadStateFile struct {
	path string
}

var _ client.UploadStateStore = uploadStateFile{}

func newUploadStateFile(dir, identity, absPath string, fi os.FileInfo, caseID, description string) uploadStateFile {
	h := sha256.New()
	for _, s := range []string{identity, absPath, strconv.FormatInt(fi.Size(), 10),
		strconv.FormatInt(fi.ModTime().UnixNano(), 10), caseID, description} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return uploadStateFile{path: filepath.Join(dir, "uploads", hex.EncodeToString(h.Sum(nil)[:16])+".json")}
}

func (s uploadStateFile) Load() (*client.UploadState, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b) > maxStateFile {
		return nil, fmt.Errorf("%s: longer than %d bytes", s.path, maxStateFile)
	}
	var st client.UploadState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return &st, nil
}

// Save writes the state to a temporary file and renames it over the old one, so a
// crash leaves one or the other, never a mix.
func (s uploadStateFile) Save(st client.UploadState) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("saving the upload state: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".upload-*")
	if err != nil {
		return fmt.Errorf("saving the upload state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("saving the upload state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving the upload state: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("saving the upload state: %w", err)
	}
	return nil
}

func (s uploadStateFile) Clear() error {
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
