package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Router is a Store that keeps each jurisdiction's content in that jurisdiction's store
// and everything else (custody events, checkpoints) in Default.
//
// Place says where a name belongs (the application layer, which names the objects,
// provides it): the jurisdiction of a content object, or content false for an object of
// the default store. A content name whose jurisdiction has no store is refused: evidence
// is never stored outside its jurisdiction by accident.
type Router struct {
	Default       Store
	Jurisdictions map[string]Store
	Place         func(name string) (jurisdiction string, content bool)
}

var _ Store = (*Router)(nil)

func (r *Router) route(name string) (Store, error) {
	j, content := r.Place(name)
	if !content {
		return r.Default, nil
	}
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

// List implements Store. A prefix that Place does not put in one jurisdiction lists
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

var _ Retainer = (*Router)(nil)

// retainer returns the Retainer that keeps name.
func (r *Router) retainer(name string) (Retainer, error) {
	s, err := r.route(name)
	if err != nil {
		return nil, err
	}
	rt, ok := s.(Retainer)
	if !ok {
		return nil, fmt.Errorf("retention of %s: %w", name, errors.ErrUnsupported)
	}
	return rt, nil
}

// SetRetention implements Retainer for the store that holds name.
func (r *Router) SetRetention(ctx context.Context, name string, until time.Time) error {
	rt, err := r.retainer(name)
	if err != nil {
		return err
	}
	return rt.SetRetention(ctx, name, until)
}

// Lock implements Retainer for the store that holds name.
func (r *Router) Lock(ctx context.Context, name string) (Lock, error) {
	rt, err := r.retainer(name)
	if err != nil {
		return Lock{}, err
	}
	return rt.Lock(ctx, name)
}

// Destroy implements Retainer for the store that holds name.
func (r *Router) Destroy(ctx context.Context, name string) error {
	rt, err := r.retainer(name)
	if err != nil {
		return err
	}
	return rt.Destroy(ctx, name)
}
