package custody

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/transparency-dev/formats/log"
)

// InconsistencyError is a security event: two checkpoints, both signed by the trusted
// log key, that cannot both describe one append-only log (a rollback, two roots for one
// size, or a failed consistency proof). It carries everything needed to show the
// inconsistency to anyone offline: both signed checkpoints and the proof.
type InconsistencyError struct {
	Reason string `json:"reason"`
	// Older and Newer are the two signed checkpoints (C2SP signed notes).
	Older string `json:"older_checkpoint"`
	Newer string `json:"newer_checkpoint"`
	// Proof is the consistency proof that failed, if one was involved.
	Proof [][]byte `json:"consistency_proof,omitempty"`
}

func (e *InconsistencyError) Error() string {
	return "SECURITY: the custody log is inconsistent: " + e.Reason
}

// Unwrap makes an inconsistency a verification failure.
func (e *InconsistencyError) Unwrap() error { return ErrVerification }

// Evidence encodes the error as a JSON document to keep and show.
func (e *InconsistencyError) Evidence() ([]byte, error) {
	return json.MarshalIndent(e, "", "  ")
}

// ParseCheckpoint opens a signed checkpoint with the trust root's log key.
func (tr *TrustRoot) ParseCheckpoint(signed []byte) (*log.Checkpoint, error) {
	if tr.Log.verifier == nil {
		return nil, fmt.Errorf("trust root not loaded: use ParseTrustRoot")
	}
	cp, _, _, err := log.ParseCheckpoint(signed, tr.Log.Origin, tr.Log.verifier)
	if err != nil {
		return nil, failf("checkpoint not signed by the trusted log key: %v", err)
	}
	return cp, nil
}

// CheckConsistency checks that newer extends older: both are signed by the trusted log
// key, newer is not smaller, equal sizes have equal roots, and the RFC 6962 consistency
// proof from older to newer verifies. An inconsistency is an *InconsistencyError.
func CheckConsistency(tr *TrustRoot, older, newer []byte, consistency [][]byte) error {
	o, err := tr.ParseCheckpoint(older)
	if err != nil {
		return fmt.Errorf("older checkpoint: %w", err)
	}
	n, err := tr.ParseCheckpoint(newer)
	if err != nil {
		return fmt.Errorf("newer checkpoint: %w", err)
	}
	incons := func(reason string) error {
		return &InconsistencyError{Reason: reason, Older: string(older), Newer: string(newer), Proof: consistency}
	}
	switch {
	case n.Size < o.Size:
		return incons(fmt.Sprintf("rollback: a checkpoint of size %d after one of size %d", n.Size, o.Size))
	case n.Size == o.Size && !bytes.Equal(n.Hash, o.Hash):
		return incons(fmt.Sprintf("fork: two different roots for tree size %d", n.Size))
	case n.Size == o.Size || o.Size == 0:
		return nil
	}
	if err := VerifyConsistency(o.Size, n.Size, consistency, o.Hash, n.Hash); err != nil {
		return incons(fmt.Sprintf("the consistency proof from size %d to %d does not verify: %v", o.Size, n.Size, err))
	}
	return nil
}

// CrossCheck checks that verified bundles of one log agree. Checkpoints of the same tree
// size must have the same root. Checkpoints of different sizes are checked with the
// consistency proofs the bundles carry (Bundle.Consistency): every proof that joins two
// of the given checkpoints must verify. It returns the distinct sizes seen and the sizes
// not joined, through verified proofs, to the largest one (they could not be checked
// without a log snapshot). A disagreement is an *InconsistencyError.
func CrossCheck(reports []*Report) (sizes, unjoined []uint64, err error) {
	seen := map[uint64][]byte{}
	for _, r := range reports {
		for size, cp := range r.Checkpoints {
			old, ok := seen[size]
			if !ok {
				seen[size] = cp
				sizes = append(sizes, size)
				continue
			}
			if !bytes.Equal(checkpointRoot(old), checkpointRoot(cp)) {
				return nil, nil, &InconsistencyError{Reason: fmt.Sprintf("fork: two bundles hold different roots for tree size %d", size),
					Older: string(old), Newer: string(cp)}
			}
		}
	}
	slices.Sort(sizes)
	// Union-find over sizes joined by verified consistency proofs.
	parent := map[uint64]uint64{}
	var find func(uint64) uint64
	find = func(x uint64) uint64 {
		if p, ok := parent[x]; ok && p != x {
			parent[x] = find(p)
			return parent[x]
		}
		return x
	}
	for _, r := range reports {
		for _, c := range r.Consistency {
			older, ok := seen[c.FromSize]
			if !ok {
				continue // no bundle here holds that checkpoint
			}
			newer := seen[c.ToSize]
			if err := VerifyConsistency(c.FromSize, c.ToSize, c.Hashes, checkpointRoot(older), checkpointRoot(newer)); err != nil {
				return nil, nil, &InconsistencyError{Reason: fmt.Sprintf("the consistency proof from size %d to %d does not verify: %v", c.FromSize, c.ToSize, err),
					Older: string(older), Newer: string(newer), Proof: c.Hashes}
			}
			parent[find(c.FromSize)] = find(c.ToSize)
		}
	}
	if len(sizes) > 0 {
		top := find(sizes[len(sizes)-1])
		for _, s := range sizes {
			if find(s) != top {
				unjoined = append(unjoined, s)
			}
		}
	}
	return sizes, unjoined, nil
}
