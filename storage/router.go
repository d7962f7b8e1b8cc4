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

var _ RangeOpener = (*Router)(nil)

// OpenRange implements RangeOpener, through the range support of the store that holds
// name if it has one.
func (r *Router) OpenRange(ctx context.Context, name, version string, off, n int64) (io.ReadCloser, Info, error) {
	s, err := r.route(name)
	if err != nil {
		return nil, Info{}, err
	}
	return OpenRange(ctx, s, name, version, off, n)
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

var (
	_ Uploader = (*Router)(nil)
	_ Scratch  = (*Router)(nil)
)

// uploader returns the Uploader that holds name.
func (r *Router) uploader(name string) (Uploader, error) {
	s, err := r.route(name)
	if err != nil {
		return nil, err
	}
	u, ok := s.(Uploader)
	if !ok {
		return nil, fmt.Errorf("resumable upload of %s: %w", name, errors.ErrUnsupported)
	}
	return u, nil
}

// scratch returns the Scratch that holds name.
func (r *Router) scratch(name string) (Scratch, error) {
	s, err := r.route(name)
	if err != nil {
		return nil, err
	}
	sc, ok := s.(Scratch)
	if !ok {
		return nil, fmt.Errorf("record %s: %w", name, errors.ErrUnsupported)
	}
	return sc, nil
}

// BeginUpload implements Uploader in the store that holds name.
func (r *Router) BeginUpload(ctx context.Context, name string) (string, error) {
	u, err := r.uploader(name)
	if err != nil {
		return "", err
	}
	return u.BeginUpload(ctx, name)
}

// PutPart implements Uploader in the store that holds name.
func (r *Router) PutPart(ctx context.Context, name, id string, p Part, src io.Reader) (Part, error) {
	u, err := r.uploader(name)
	if err != nil {
		return Part{}, err
	}
	return u.PutPart(ctx, name, id, p, src)
}

// CompleteUpload implements Uploader in the store that holds name.
func (r *Router) CompleteUpload(ctx context.Context, name, id string, parts []Part) (Info, error) {
	u, err := r.uploader(name)
	if err != nil {
		return Info{}, err
	}
	return u.CompleteUpload(ctx, name, id, parts)
}

// AbortUpload implements Uploader in the store that holds name.
func (r *Router) AbortUpload(ctx context.Context, name, id string) error {
	u, err := r.uploader(name)
	if err != nil {
		return err
	}
	return u.AbortUpload(ctx, name, id)
}

// PutRecord implements Scratch in the store that holds name.
func (r *Router) PutRecord(ctx context.Context, name string, data []byte) error {
	sc, err := r.scratch(name)
	if err != nil {
		return err
	}
	return sc.PutRecord(ctx, name, data)
}

// GetRecord implements Scratch in the store that holds name.
func (r *Router) GetRecord(ctx context.Context, name string) ([]byte, error) {
	sc, err := r.scratch(name)
	if err != nil {
		return nil, err
	}
	return sc.GetRecord(ctx, name)
}

// DeleteRecord implements Scratch in the store that holds name.
func (r *Router) DeleteRecord(ctx context.Context, name string) error {
	sc, err := r.scratch(name)
	if err != nil {
		return err
	}
	return sc.DeleteRecord(ctx, name)
}

// ListRecords implements Scratch in the store prefix routes to (see List).
func (r *Router) ListRecords(ctx context.Context, prefix string) ([]string, error) {
	sc, err := r.scratch(prefix)
	if err != nil {
		return nil, err
	}
	return sc.ListRecords(ctx, prefix)
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
