package exhibit

import (
	"context"

	"github.com/evidencegw/evidencegw/policy"
)

// LatestDataKey returns the wrapped key of the newest data-key record of an exhibit
// and the record's version, for the rotation tests.
func (s *Service) LatestDataKey(ctx context.Context, jurisdiction, id string) (wrapped []byte, version int, err error) {
	dk, v, err := s.latestDataKey(ctx, jurisdiction, id)
	return dk.Wrapped, v, err
}

// AuthorizeDownload runs the authorization of a download of id by p (the chain loaded,
// folded and the policy asked), without opening the content or recording anything.
func (s *Service) AuthorizeDownload(ctx context.Context, p Principal, id string) error {
	_, _, err := s.authorized(ctx, id, p, access{action: policy.ActionDownload})
	return err
}

// KeptFolds returns the number of folded states kept and their estimated size.
func (s *Service) KeptFolds() (int, int64) { return s.folds.size() }
