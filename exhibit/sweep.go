package exhibit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/storage"
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
}

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
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var r SweepReport
	for _, j := range s.jurisdictions() {
		names, err := s.cfg.Store.List(ctx, contentPrefix+j+"/")
		if err != nil {
			return r, fmt.Errorf("listing the content of %s: %w", j, err)
		}
		live, err := s.liveUploads(ctx, j)
		if err != nil {
			return r, err
		}
		for id, objects := range byExhibit(j, names) {
			r.Exhibits++
			if live[id] {
				continue // a resumable upload between its completion and its register event
			}
			events, err := s.cfg.Store.List(ctx, eventsPrefix(id))
			if err != nil {
				return r, fmt.Errorf("listing the events of %s: %w", id, err)
			}
			if len(events) > 0 {
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
	return r, nil
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
