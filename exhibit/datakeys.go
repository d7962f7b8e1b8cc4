package exhibit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/evidencegw/evidencegw/storage"
)

// maxDataKeyRecord bounds a data-key record read back from the store.
const maxDataKeyRecord = 64 << 10

// dataKey is a record of an exhibit's wrapped data key, kept beside its content
// (docs/storage.md): which key-encryption key wrapped it, and the wrapped bytes.
type dataKey struct {
	KeyRef  string `json:"key_ref"`
	Wrapped []byte `json:"wrapped"`
}

// putDataKey stores version n of an exhibit's data-key record, write-once.
// storage.ErrExists if that version exists with other bytes.
func (s *Service) putDataKey(ctx context.Context, jurisdiction, id string, n int, dk dataKey) error {
	b, err := json.Marshal(dk)
	if err != nil {
		return fmt.Errorf("encoding data key %d of %s: %w", n, id, err)
	}
	if _, err := s.cfg.Store.Create(ctx, dataKeyName(jurisdiction, id, n), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("storing data key %d of %s: %w", n, id, err)
	}
	return nil
}

// errNoDataKey is an exhibit whose content has no data-key record.
var errNoDataKey = errors.New("no data key is stored")

// latestDataKey reads the newest data-key record of an exhibit and its version.
func (s *Service) latestDataKey(ctx context.Context, jurisdiction, id string) (dataKey, int, error) {
	names, err := s.cfg.Store.List(ctx, dataKeyPrefix(jurisdiction, id))
	if err != nil {
		return dataKey{}, 0, fmt.Errorf("listing data keys of %s: %w", id, err)
	}
	version, name := 0, ""
	for _, n := range names {
		if nid, v, ok := parseDataKeyName(jurisdiction, n); ok && nid == id && v > version {
			version, name = v, n
		}
	}
	if name == "" {
		return dataKey{}, 0, fmt.Errorf("finding the data key of %s: %w", id, errNoDataKey)
	}
	b, err := readSmall(ctx, s.cfg.Store, name, maxDataKeyRecord)
	if err != nil {
		return dataKey{}, 0, fmt.Errorf("reading the data key of %s: %w", id, err)
	}
	var dk dataKey
	if err := json.Unmarshal(b, &dk); err != nil {
		return dataKey{}, 0, fmt.Errorf("decoding data key %d of %s: %w", version, id, err)
	}
	return dk, version, nil
}

// sealedOf rebuilds what the sealer needs to read an exhibit's content from its
// register event and its newest data-key record.
func (s *Service) sealedOf(ctx context.Context, st *state) (storage.Sealed, error) {
	id, j := st.id(), st.jurisdiction()
	dk, _, err := s.latestDataKey(ctx, j, id)
	if err != nil {
		return storage.Sealed{}, err
	}
	f := st.register.Storage
	return storage.Sealed{
		Object: storage.Info{Name: contentName(j, id), Size: f.CiphertextSize, SHA256: f.CiphertextSHA256,
			Version: f.Version, ETag: f.ETag, Location: f.Location},
		PlainSHA256: st.register.Exhibit.SHA256, PlainSize: st.register.Exhibit.Size,
		KeyRef: dk.KeyRef, WrappedKey: dk.Wrapped,
	}, nil
}
