package custody

import (
	"errors"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// This file pins the Merkle tree the custody log uses, RFC 6962 with SHA-256, so that the
// verifier and its conformance tests (custody/conformance_test.go, run against the
// transparency-dev/merkle vectors in testdata/rfc6962) exercise the same functions.

// VerifyInclusion checks that leafHash, the RFC 6962 leaf hash of an entry
// (rfc6962.DefaultHasher.HashLeaf), is at index in the tree of the given size and root,
// by the inclusion proof hashes, ordered from the leaf up.
func VerifyInclusion(index, size uint64, leafHash []byte, hashes [][]byte, root []byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, hashes, root)
}

// VerifyConsistency checks that the tree of size1 and root1 is a prefix of the tree of
// size2 and root2, by the consistency proof hashes.
//
// A proof from an empty tree (size1 0) is refused: it would establish nothing. This
// follows the transparency-dev/merkle vectors; merkle v0.0.2 and C2SP merkle-tree accept
// such a proof when it is empty.
func VerifyConsistency(size1, size2 uint64, hashes [][]byte, root1, root2 []byte) error {
	if size1 == 0 {
		return errors.New("consistency proof from an empty tree proves nothing")
	}
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, hashes, root1, root2)
}
