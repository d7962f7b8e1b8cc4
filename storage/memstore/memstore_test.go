package memstore

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store { return New() })
}

func TestRetentionConformance(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) storage.Retainer { return New() })
}

func TestHooks(t *testing.T) {
	errFault := errors.New("injected fault")
	s := New()
	s.BeforeCreate = func(name string) error {
		if name == "fail" {
			return errFault
		}
		return nil
	}
	s.BeforeOpen = s.BeforeCreate
	if _, err := s.Create(t.Context(), "fail", bytes.NewReader([]byte("x"))); !errors.Is(err, errFault) {
		t.Errorf("Create with a failing hook: got error %v, want %v", err, errFault)
	}
	if names, _ := s.List(t.Context(), ""); len(names) != 0 {
		t.Errorf("List after a failed Create = %q, want nothing", names)
	}
	s.BeforeCreate = nil
	if _, err := s.Create(t.Context(), "fail", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatalf("Create without hook = %v", err)
	}
	if _, _, err := s.Open(t.Context(), "fail", ""); !errors.Is(err, errFault) {
		t.Errorf("Open with a failing hook: got error %v, want %v", err, errFault)
	}
}

func TestCorruptAndTruncate(t *testing.T) {
	s := New()
	want, err := s.Create(t.Context(), "x", bytes.NewReader([]byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tamper  func() error
		want    string
		wantErr bool
	}{
		{"corrupt middle", func() error { return s.Corrupt("x", 1) }, "a\x9dc", false},
		{"corrupt past end", func() error { return s.Corrupt("x", 3) }, "a\x9dc", true},
		{"corrupt missing", func() error { return s.Corrupt("y", 0) }, "a\x9dc", true},
		{"truncate", func() error { return s.Truncate("x", 2) }, "a\x9d", false},
		{"truncate longer", func() error { return s.Truncate("x", 5) }, "a\x9d", true},
	}
	for _, tt := range tests {
		if err := tt.tamper(); (err != nil) != tt.wantErr {
			t.Errorf("%s: got error %v, want error %v", tt.name, err, tt.wantErr)
		}
		rc, info, err := s.Open(t.Context(), "x", "")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		if string(got) != tt.want {
			t.Errorf("%s: read %q, want %q", tt.name, got, tt.want)
		}
		if info != want {
			t.Errorf("%s: Info = %+v, want the recorded %+v", tt.name, info, want)
		}
	}
}

func TestUploadsConformance(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) storetest.ResumableStore { return New() })
}
