package storage

import (
	"context"
	"errors"
	"time"
)

// ErrRetained is returned by Destroy when an object may not be destroyed yet: a
// version of it is within its retention period or under legal hold.
var ErrRetained = errors.New("object is under retention or legal hold")

// Lock is the retention state of an object, over all its versions.
type Lock struct {
	// RetainUntil is the latest retain-until time of any version; zero if no version
	// has a retention.
	RetainUntil time.Time
	// LegalHold is set when any version is under legal hold.
	LegalHold bool
}

// Destroyable reports whether an object with this lock may be destroyed at now: no
// legal hold, and now at or after RetainUntil.
func (l Lock) Destroyable(now time.Time) bool {
	return !l.LegalHold && !now.Before(l.RetainUntil)
}

// Retainer is implemented by stores that keep each object under a retention period and
// a legal hold, and destroy it once both allow: S3 Object Lock enforces them in the
// server (within the retention no credential deletes a version in COMPLIANCE mode); the
// local and memory stores record them and enforce them in Destroy.
//
// Retention only ever grows: it is the store's promise that an object exists until
// then. Destroy is the only way any store of this package removes an object; nothing
// else deletes or overwrites one.
//
// Implementations are safe for concurrent use. Every method checks the name like
// Create and returns an error wrapping ErrNotFound for an absent object (but Destroy).
type Retainer interface {
	LegalHolder
	// SetRetention extends the retention of every version of name to until, and
	// returns once the store keeps it durably. A version already retained until a
	// later time keeps its time: retention never shortens. Safe to retry.
	SetRetention(ctx context.Context, name string, until time.Time) error
	// Lock reports the retention state of name over all its versions.
	Lock(ctx context.Context, name string) (Lock, error)
	// Destroy removes every version of name for ever. A version within its retention
	// or under legal hold is refused with an error wrapping ErrRetained: the store
	// decides, against its own clock (on S3, the server's). The versions are removed
	// one by one, so a refusal may come after others were removed; a Destroy of an
	// absent name succeeds, so a retry finishes what a failed one began. After it
	// returns nil, Open and List no longer see name.
	Destroy(ctx context.Context, name string) error
}
