package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ContentPrefix starts the names of evidence content objects: "content/<JURISDICTION>/...".
// The jurisdiction segment decides, through a Router, where the bytes are kept (data
// residency).
const ContentPrefix = "content/"

// ContentName is the name of an object of an evidence item's content area, in the
// store of its owner's jurisdiction: "content/<jurisdiction>/<id>/<rest>".
func ContentName(jurisdiction, id, rest string) string {
	return ContentPrefix + jurisdiction + "/" + id + "/" + rest
}

// Router is a Store that keeps each jurisdiction's content in that jurisdiction's store
// and everything else (custody events, checkpoints) in Default.
//
// A content name whose jurisdiction has no store is refused: evidence is never stored
// outside its jurisdiction by accident.
type Router struct {
	Default       Store
	Jurisdictions map[string]Store
}

var _ Store = (*Router)(nil)

func (r *Router) route(name string) (Store, error) {
	rest, ok := strings.CutPrefix(name, ContentPrefix)
	if !ok {
		return r.Default, nil
	}
	j, _, _ := strings.Cut(rest, "/")
	s, ok := r.Jurisdictions[j]
	if !ok || j == "" {
		return nil, fmt.Errorf("no store is configured for jurisdiction %q: %w", j, ErrInvalidName)
	}
	return s, nil
}

// Create implements Store.
func (r *Router) Create(ctx context.Context, name string, src io.Reader) (Info, error) {
	s, err := r.route(name)
	if err != nil {
		return Info{}, err
	}
	return s.Create(ctx, name, src)
}

// Open implements Store.
func (r *Router) Open(ctx context.Context, name, version string) (io.ReadCloser, Info, error) {
	s, err := r.route(name)
	if err != nil {
		return nil, Info{}, err
	}
	return s.Open(ctx, name, version)
}

// List implements Store. A prefix that spans jurisdictions ("content/" alone) lists
// only the default store; list per jurisdiction instead.
func (r *Router) List(ctx context.Context, prefix string) ([]string, error) {
	s, err := r.route(prefix)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, prefix)
}

var _ LegalHolder = (*Router)(nil)

// SetLegalHold implements LegalHolder for the store that holds name.
func (r *Router) SetLegalHold(ctx context.Context, name, version string, on bool) error {
	s, err := r.route(name)
	if err != nil {
		return err
	}
	lh, ok := s.(LegalHolder)
	if !ok {
		return fmt.Errorf("legal hold on %s: %w", name, errors.ErrUnsupported)
	}
	return lh.SetLegalHold(ctx, name, version, on)
}
