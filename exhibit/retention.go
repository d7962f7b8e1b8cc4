package exhibit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/storage"
)

// DefaultRetention is the retention period of a case when Retention.Default is zero:
// ten years.
const DefaultRetention = 3650 * 24 * time.Hour

// Retention says how long the evidence of each case is kept. An exhibit's retention
// starts when it is registered: its register event records the end (retain_until),
// its content and data keys are retained until then in the store (S3 Object Lock), and
// it may be disposed of only after it.
type Retention struct {
	// Default is the retention period of a case without its own; 0 means
	// DefaultRetention.
	Default time.Duration
	// Cases maps a case id to the retention period of its evidence.
	Cases map[string]time.Duration
}

// period returns the retention period of a case.
func (r Retention) period(caseID string) time.Duration {
	if d, ok := r.Cases[caseID]; ok {
		return d
	}
	if r.Default > 0 {
		return r.Default
	}
	return DefaultRetention
}

// retainUntil is when the retention of an exhibit ends: the time its register event
// records, or, for an exhibit registered before retention was recorded, its
// registration time plus its case's period now.
func (s *Service) retainUntil(st *state) time.Time {
	if t := st.register.RetainUntil; t != nil {
		return *t
	}
	return st.register.Time.Add(s.cfg.Retention.period(st.register.CaseID))
}

// retainer returns the store's Retainer; false for a store without retention (which
// then never destroys anything).
func (s *Service) retainer() (storage.Retainer, bool) {
	rt, ok := s.cfg.Store.(storage.Retainer)
	return rt, ok
}

// retain extends the retention of the named objects to until, where the store keeps
// retention.
func (s *Service) retain(ctx context.Context, until time.Time, names ...string) error {
	rt, ok := s.retainer()
	if !ok {
		return nil
	}
	for _, name := range names {
		if err := rt.SetRetention(ctx, name, until); err != nil {
			return fmt.Errorf("retaining %s until %s: %w", name, until.UTC().Format(time.RFC3339), err)
		}
	}
	return nil
}

// dataKeyNames lists the stored versions of an exhibit's data-key record.
func (s *Service) dataKeyNames(ctx context.Context, j, id string) ([]string, error) {
	names, err := s.cfg.Store.List(ctx, dataKeyPrefix(j, id))
	if err != nil {
		return nil, fmt.Errorf("listing data keys of %s: %w", id, err)
	}
	var out []string
	for _, n := range names {
		if nid, _, ok := parseDataKeyName(j, n); ok && nid == id {
			out = append(out, n)
		}
	}
	return out, nil
}

// recordNames lists the stored custody records of an exhibit: its events and their
// log indexes.
func (s *Service) recordNames(ctx context.Context, id string) ([]string, error) {
	names, err := s.cfg.Store.List(ctx, eventsPrefix(id))
	if err != nil {
		return nil, fmt.Errorf("listing custody records of %s: %w", id, err)
	}
	return names, nil
}

// errNoRetention is a store that keeps no retention: it cannot destroy objects.
var errNoRetention = fmt.Errorf("the object store keeps no retention and destroys nothing: %w", errors.ErrUnsupported)
