package exhibit

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/storage"
)

// The trust root is versioned and every change is logged (docs/bundle.md#trust-root-
// versions): the trust root of now (its event keys, log key, witnesses and what else
// it carries) is compared with the latest stored version, and when they differ the
// next version is made, its change signed and appended to the log, and both stored
// write-once, the change first:
//
//	trust-root/<version:08>.change.json   the chain entry of the version (from 2 on)
//	trust-root/<version:08>.json          the encoded trust root of the version

// maxStoredTrustRootChange bounds a stored chain entry read back.
const maxStoredTrustRootChange = custody.MaxTrustRootSize*2 + custody.MaxEnvelopeSize + 1<<20

// TrustRoot returns the encoded latest trust root version, after logging a new version
// if the trust root of now says something the latest does not. If the change cannot
// be logged now (the witnesses do not cosign it), the latest logged version is
// returned and the failure logged: a version is published only through the log.
func (s *Service) TrustRoot(ctx context.Context) ([]byte, error) {
	_, latest, err := s.trustRootVersions(ctx)
	if err != nil {
		return nil, err
	}
	now, err := s.cfg.TrustRoot(ctx)
	if err != nil {
		return nil, fmt.Errorf("building the trust root: %w", err)
	}
	if latest == nil {
		return s.storeFirstTrustRoot(ctx, now)
	}
	cur, err := custody.ParseTrustRoot(latest)
	if err != nil {
		return nil, fmt.Errorf("stored trust root: %w", err)
	}
	if same, err := custody.SameTrust(cur, now); err != nil || same {
		return latest, err
	}
	next, err := s.logTrustRootVersion(ctx, now, cur.TrustRootVersion()+1, latest)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "the trust root changed but its new version could not be logged: serving the latest logged one",
			"version", cur.TrustRootVersion(), "err", err)
		return latest, nil
	}
	return next, nil
}

// TrustRootChain returns the encoded chain of every logged trust root change.
func (s *Service) TrustRootChain(ctx context.Context) ([]byte, error) {
	if _, err := s.TrustRoot(ctx); err != nil {
		return nil, err
	}
	chain, _, err := s.trustRootVersions(ctx)
	if err != nil {
		return nil, err
	}
	c := custody.TrustRootChain{Changes: chain}
	return c.Marshal()
}

// storeFirstTrustRoot stores version 1, unversioned as the first release wrote it.
func (s *Service) storeFirstTrustRoot(ctx context.Context, now *custody.TrustRoot) ([]byte, error) {
	v1 := *now
	v1.Version, v1.Previous = 0, ""
	b, err := v1.Marshal()
	if err != nil {
		return nil, err
	}
	return s.putTrustRoot(ctx, 1, b)
}

// logTrustRootVersion makes version from now after the encoded previous one, logs its
// change and stores both.
func (s *Service) logTrustRootVersion(ctx context.Context, now *custody.TrustRoot, version uint64, previous []byte) ([]byte, error) {
	next := *now
	next.Version, next.Previous = version, custody.TrustRootDigest(previous)
	b, err := next.Marshal()
	if err != nil {
		return nil, err
	}
	if _, err := custody.ParseTrustRoot(b); err != nil {
		return nil, fmt.Errorf("trust root version %d: %w", version, err)
	}
	entry, err := s.ledger.LogTrustRootChange(ctx, b, version, next.Previous)
	if err != nil {
		return nil, err
	}
	// Checked as a court will: the change must be under a checkpoint that meets the
	// previous version's witnesses (a new policy that does not imply the old one can
	// fail here: the version is then not published).
	if _, _, err := custody.FollowTrustRootChain(previous, &custody.TrustRootChain{Changes: []custody.TrustRootChainEntry{entry}}, nil); err != nil {
		return nil, fmt.Errorf("trust root version %d as logged: %w", version, err)
	}
	raw, err := json.Marshal(entry)
	if err != nil {
		return nil, fmt.Errorf("encoding trust root change %d: %w", version, err)
	}
	if _, err := s.cfg.Store.Create(ctx, trustRootChangeName(version), bytes.NewReader(raw)); err != nil {
		if !errors.Is(err, storage.ErrExists) {
			return nil, fmt.Errorf("storing trust root change %d: %w", version, err)
		}
		// Another replica logged version first (ours is an unused leaf in the log):
		// its change stands.
		if b, err = s.changedTrustRoot(ctx, version); err != nil {
			return nil, err
		}
	}
	s.cfg.Logger.InfoContext(ctx, "trust root version logged", "version", version, "sha256", custody.TrustRootDigest(b))
	return s.putTrustRoot(ctx, version, b)
}

// putTrustRoot stores the encoded version write-once and returns the stored bytes.
func (s *Service) putTrustRoot(ctx context.Context, version uint64, b []byte) ([]byte, error) {
	_, err := s.cfg.Store.Create(ctx, trustRootName(version), bytes.NewReader(b))
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, storage.ErrExists) {
		return nil, fmt.Errorf("storing trust root version %d: %w", version, err)
	}
	stored, err := readSmall(ctx, s.cfg.Store, trustRootName(version), custody.MaxTrustRootSize)
	if err != nil {
		return nil, fmt.Errorf("reading trust root version %d: %w", version, err)
	}
	return stored, nil
}

// changedTrustRoot returns the trust root bytes of the stored change of version.
func (s *Service) changedTrustRoot(ctx context.Context, version uint64) ([]byte, error) {
	raw, err := readSmall(ctx, s.cfg.Store, trustRootChangeName(version), maxStoredTrustRootChange)
	if err != nil {
		return nil, fmt.Errorf("reading trust root change %d: %w", version, err)
	}
	var e custody.TrustRootChainEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("decoding trust root change %d: %w", version, err)
	}
	b, err := base64.StdEncoding.DecodeString(e.TrustRoot)
	if err != nil {
		return nil, fmt.Errorf("decoding trust root change %d: %w", version, err)
	}
	return b, nil
}

// trustRootVersions reads the stored versions and changes, and checks them the way a
// court does: from version 1, each change must follow (custody.FollowTrustRootChain).
// It returns the changes and the encoded latest version (nil if none is stored). A
// change stored without its version (the process stopped between the two) is
// completed.
func (s *Service) trustRootVersions(ctx context.Context) ([]custody.TrustRootChainEntry, []byte, error) {
	names, err := s.cfg.Store.List(ctx, trustRootPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("listing trust root versions: %w", err)
	}
	var versions, changes []uint64
	for _, n := range names {
		if v, change, ok := parseTrustRootName(n); ok && change {
			changes = append(changes, v)
		} else if ok {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return nil, nil, nil
	}
	first, err := readSmall(ctx, s.cfg.Store, trustRootName(1), custody.MaxTrustRootSize)
	if err != nil {
		return nil, nil, fmt.Errorf("reading trust root version 1: %w", err)
	}
	var chain []custody.TrustRootChainEntry
	for i, v := range changes {
		if v != uint64(i)+2 {
			return nil, nil, fmt.Errorf("stored trust root changes skip version %d: %w", uint64(i)+2, ErrLogDamaged)
		}
		raw, err := readSmall(ctx, s.cfg.Store, trustRootChangeName(v), maxStoredTrustRootChange)
		if err != nil {
			return nil, nil, fmt.Errorf("reading trust root change %d: %w", v, err)
		}
		var e custody.TrustRootChainEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, nil, fmt.Errorf("decoding trust root change %d: %w", v, err)
		}
		chain = append(chain, e)
	}
	latestTR, latest, err := custody.FollowTrustRootChain(first, &custody.TrustRootChain{Changes: chain}, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the stored trust root versions do not follow from version 1: %w: %w", ErrLogDamaged, err)
	}
	if v := latestTR.TrustRootVersion(); v > versions[len(versions)-1] {
		if _, err := s.putTrustRoot(ctx, v, latest); err != nil {
			return nil, nil, err
		}
	}
	return chain, latest, nil
}

// Names of the trust root versions (see names.go).
const trustRootPrefix = "trust-root/"

func trustRootName(version uint64) string {
	return fmt.Sprintf("%s%08d.json", trustRootPrefix, version)
}

func trustRootChangeName(version uint64) string {
	return fmt.Sprintf("%s%08d.change.json", trustRootPrefix, version)
}

func parseTrustRootName(name string) (version uint64, change, ok bool) {
	rest, found := strings.CutPrefix(name, trustRootPrefix)
	if !found {
		return 0, false, false
	}
	digits, change := strings.CutSuffix(rest, ".change.json")
	if !change {
		if digits, found = strings.CutSuffix(rest, ".json"); !found {
			return 0, false, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || len(digits) != 8 || v == 0 {
		return 0, false, false
	}
	return v, change, true
}
