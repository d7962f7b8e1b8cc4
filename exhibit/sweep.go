package exhibit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidencegw/evidencegw/storage"
	"golang.org/x/sync/errgroup"
)

// SweepReport is what Sweep found.
type SweepReport struct {
	// Exhibits counts the exhibits whose content it looked at.
	Exhibits int
	// Orphans are the evidence ids whose sealed content or data key is stored without
	// a register event: uploads that stopped before they were registered. Each has a
	// quarantine record.
	Orphans []string
	// Quarantined are the orphans this sweep found first (their record is new).
	Quarantined []string
	// Young are the evidence ids whose content has no register event yet but was
	// written less than the orphan grace period ago: uploads that may be in flight,
	// on this gateway or another one sharing the store. They are left alone; a later
	// sweep quarantines those that never get their event.
	Young []string
}

// DefaultOrphanGrace is Config.OrphanGrace when 0: a single-request upload becomes
// visible in the store only once its content is complete, and its data key and
// register event follow within seconds, or minutes with a slow log; an hour leaves a
// wide margin and still quarantines a crash's leftovers at the next start after it.
const DefaultOrphanGrace = time.Hour

// quarantineRecord says why stored objects belong to no exhibit.
type quarantineRecord struct {
	EvidenceID string    `json:"evidence_id"`
	Objects    []string  `json:"objects"`
	Reason     string    `json:"reason"`
	Found      time.Time `json:"found"`
}

// Sweep looks for orphans: content and data keys stored for an evidence id that has
// no custody event, left by an upload the process stopped (or failed) between sealing
// the content and recording its register event. The store is write-once, so they are
// not deleted: each gets a quarantine record (quarantine/<id>.json) listing its objects,
// once, and is logged and counted. An orphan is never acknowledged to anyone: no client
// got its evidence id. Sweep runs when the gateway starts.
//
// Content without an event is an orphan only once its newest object is older than the
// orphan grace period (Config.OrphanGrace): until then it may be an upload in flight
// on another gateway that shares the store, between sealing and its register event.
// An object whose store gives no write time counts as old.
//
// Its store calls: one listing of the quarantine records and one of the content of
// each jurisdiction, then per exhibit a listing narrowed to the name of its register
// event (at most two names come back, however long its chain; sweepLookups exhibits at
// a time); only for an exhibit
// without one that is not quarantined yet, a listing of all its events and a look at
// its objects' write times.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var r SweepReport
	recorded, err := s.cfg.Store.List(ctx, quarantinePrefix)
	if err != nil {
		return r, fmt.Errorf("listing the quarantine records: %w", err)
	}
	for _, j := range s.jurisdictions() {
		names, err := s.cfg.Store.List(ctx, contentPrefix+j+"/")
		if err != nil {
			return r, fmt.Errorf("listing the content of %s: %w", j, err)
		}
		live, err := s.liveUploads(ctx, j)
		if err != nil {
			return r, err
		}
		exhibits := byExhibit(j, names)
		r.Exhibits += len(exhibits)
		unregistered, err := s.unregistered(ctx, exhibits, live)
		if err != nil {
			return r, err
		}
		for _, id := range unregistered {
			objects := exhibits[id]
			if _, found := slices.BinarySearch(recorded, quarantineName(id)); found {
				r.Orphans = append(r.Orphans, id) // quarantined by an earlier sweep
				continue
			}
			// A register event lost or removed while later events remain is damage,
			// for fsck, not an orphan.
			if registered, err := s.listed(ctx, eventsPrefix(id)); err != nil || registered {
				if err != nil {
					return r, fmt.Errorf("listing the events of %s: %w", id, err)
				}
				continue
			}
			young, err := s.young(ctx, objects)
			if err != nil {
				return r, err
			}
			if young {
				r.Young = append(r.Young, id)
				continue
			}
			r.Orphans = append(r.Orphans, id)
			fresh, err := s.quarantine(ctx, id, objects)
			if err != nil {
				return r, err
			}
			if fresh {
				r.Quarantined = append(r.Quarantined, id)
			}
		}
	}
	slices.Sort(r.Orphans)
	slices.Sort(r.Quarantined)
	slices.Sort(r.Young)
	return r, nil
}

// sweepLookups is how many exhibits' register events the sweep looks up at a time: one
// by one, a start-up over 10,123 exhibits on a local MinIO took 9 s, one store round trip
// each.
const sweepLookups = 16

// unregistered returns, sorted, the exhibits of exhibits that have no register event
// and are not live uploads, looking sweepLookups up at a time.
func (s *Service) unregistered(ctx context.Context, exhibits map[string][]string, live map[string]bool) ([]string, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(sweepLookups)
	var mu sync.Mutex
	var ids []string
	for id := range exhibits {
		if live[id] {
			continue // a resumable upload between its completion and its register event
		}
		g.Go(func() error {
			registered, err := s.listed(gctx, eventName(id, 0))
			if err != nil {
				return fmt.Errorf("listing the events of %s: %w", id, err)
			}
			if !registered {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// listed reports whether the store holds an object whose name starts with prefix.
func (s *Service) listed(ctx context.Context, prefix string) (bool, error) {
	names, err := s.cfg.Store.List(ctx, prefix)
	return len(names) > 0, err
}

// young reports whether the newest of objects was written within the orphan grace
// period. It reads their write times, not their bytes (an empty range).
func (s *Service) young(ctx context.Context, objects []string) (bool, error) {
	grace := s.orphanGrace()
	if grace <= 0 {
		return false, nil
	}
	now := s.cfg.Now()
	for _, name := range objects {
		rc, info, err := storage.OpenRange(ctx, s.cfg.Store, name, "", 0, 0)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("reading when %s was written: %w", name, err)
		}
		rc.Close()
		if !info.Modified.IsZero() && now.Sub(info.Modified) < grace {
			return true, nil
		}
	}
	return false, nil
}

// orphanGrace is Config.OrphanGrace with its default.
func (s *Service) orphanGrace() time.Duration {
	switch {
	case s.cfg.OrphanGrace < 0:
		return 0
	case s.cfg.OrphanGrace == 0:
		return DefaultOrphanGrace
	}
	return s.cfg.OrphanGrace
}

// quarantine writes the quarantine record of an orphan; false if it has one already.
func (s *Service) quarantine(ctx context.Context, id string, objects []string) (bool, error) {
	if have, err := s.cfg.Store.List(ctx, quarantineName(id)); err != nil {
		return false, fmt.Errorf("looking for the quarantine record of %s: %w", id, err)
	} else if slices.Contains(have, quarantineName(id)) {
		return false, nil
	}
	b, err := json.Marshal(quarantineRecord{EvidenceID: id, Objects: objects, Found: s.cfg.Now().UTC(),
		Reason: "content stored without a register event: an upload that stopped before it was registered, never acknowledged"})
	if err != nil {
		return false, err
	}
	_, err = s.cfg.Store.Create(ctx, quarantineName(id), bytes.NewReader(b))
	if errors.Is(err, storage.ErrExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("quarantining %s: %w", id, err)
	}
	s.metrics.orphans.Inc()
	s.cfg.Logger.WarnContext(ctx, "orphan upload quarantined", "evidence_id", id, "objects", objects)
	return true, nil
}

// liveUploads returns the evidence ids of the upload sessions of jurisdiction j.
func (s *Service) liveUploads(ctx context.Context, j string) (map[string]bool, error) {
	live := map[string]bool{}
	_, sc, err := s.uploadStores()
	if err != nil {
		return live, nil // a store without resumable uploads has none
	}
	names, err := sc.ListRecords(ctx, uploadsOf(j))
	if err != nil {
		return nil, fmt.Errorf("listing the uploads of %s: %w", j, err)
	}
	for _, name := range names {
		if !isSessionName(j, name) {
			continue
		}
		var sess uploadSession
		if err := getJSON(ctx, sc, name, &sess); err != nil {
			return nil, err
		}
		if s.cfg.Now().Before(sess.Expires) {
			live[sess.EvidenceID] = true
		}
	}
	return live, nil
}

// byExhibit groups the content names of jurisdiction j by evidence id.
func byExhibit(j string, names []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range names {
		rest := strings.TrimPrefix(name, contentPrefix+j+"/")
		id, _, ok := strings.Cut(rest, "/")
		if ok {
			out[id] = append(out[id], name)
		}
	}
	return out
}

// jurisdictions lists the jurisdictions of the configured agencies, once each.
func (s *Service) jurisdictions() []string {
	var js []string
	for _, a := range s.cfg.Agencies {
		if !slices.Contains(js, a.Jurisdiction) {
			js = append(js, a.Jurisdiction)
		}
	}
	return js
}
