package tesseralog

import (
	"fmt"

	"github.com/evidencegw/evidencegw/ledger"
)

// Kinds of damage a DamageError reports.
const (
	// DamageRollback: the log is smaller than a checkpoint the gateway published (the
	// directory was restored from an older copy, or truncated).
	DamageRollback = "rollback"
	// DamageFork: the log has another root than a checkpoint the gateway published for
	// the same size, or a root that does not extend it.
	DamageFork = "fork"
	// DamageCorrupt: a tile or an entry bundle does not recompute to the log's signed
	// root, or is missing.
	DamageCorrupt = "corrupt"
)

// DamageError reports a log directory that does not match what the gateway published.
// It matches ledger.ErrSecurity. Nothing is signed while it stands: the gateway refuses
// to start (or to sign), and docs/log.md says how to recover.
type DamageError struct {
	Kind string
	// Detail names the damage: sizes, roots, the tile or bundle that failed.
	Detail string
	// Published is the newest checkpoint the gateway published (from its checkpoint
	// store), if any; Found the log directory's own checkpoint, if any. Both are C2SP
	// signed notes, signed by the gateway's checkpoint key.
	Published []byte
	Found     []byte
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("tesseralog: the embedded custody log is damaged (%s): %s; nothing is signed until it is repaired (docs/log.md, \"Recovering the embedded log\")", e.Kind, e.Detail)
}

// Is makes the error match ledger.ErrSecurity.
func (e *DamageError) Is(target error) bool { return target == ledger.ErrSecurity }
