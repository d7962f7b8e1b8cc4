package exhibit

import "context"

// LatestDataKey returns the wrapped key of the newest data-key record of an exhibit
// and the record's version, for the rotation tests.
func (s *Service) LatestDataKey(ctx context.Context, jurisdiction, id string) (wrapped []byte, version int, err error) {
	dk, v, err := s.latestDataKey(ctx, jurisdiction, id)
	return dk.Wrapped, v, err
}
