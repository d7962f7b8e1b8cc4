// Package custody is the domain core of the gateway: the custody event model, the
// per-exhibit hash chain, the transparency-log leaf that commits to each event, the
// court bundle, the trust root and the offline verification of a bundle.
//
// # Events
//
// Every state change of an evidence item (an "exhibit") is a custody event: an in-toto
// Statement v1 whose subject is the exhibit (its SHA-256 digest) and whose predicate is
// an [Event]. The gateway signs the statement into a DSSE envelope and appends a leaf
// committing to it to a transparency log (RFC 6962 Merkle tree with C2SP checkpoints).
//
// # Chain
//
// The events of one exhibit form a hash chain: event n carries Seq n and Prev, the
// SHA-256 of the statement bytes (the DSSE payload) of event n-1. Event 0 is the
// register event and has an empty Prev.
//
// # Acts
//
// An event a member asks for (register, share, revoke, accept, legal hold and its
// release, received) carries the member's own signed act ([SignedAct]): a DSSE envelope
// of an in-toto statement naming the change, signed with a key the member's agency
// certified, with its certificate chain. The trust root lists each agency's CAs; the
// verifier checks the act's chain and signature at the event's time and that it names
// the event ([VerifyAct], [CheckActEvent]).
//
// # Leaves
//
// A log leaf reveals nothing of the case to a reader of the raw log: it holds the
// event's digest and a per-exhibit tag that only holders of the exhibit's register
// event can compute (see [Leaf]).
//
// # Witnesses and trust root versions
//
// Checkpoints are cosigned by independent witnesses (C2SP tlog-cosignature, checked
// with transparency-dev/formats/note); which cosignatures a checkpoint needs is a
// [WitnessPolicy] in the Sigsum policy format, the trust root's and, independently, the
// verifier's own ([VerifyOptions]). The trust root is versioned: every version after
// the first is a change signed and logged in the log of the version before, and
// [FollowTrustRootChain] takes a verifier from the version it pinned to the latest.
//
// # Imports
//
// This package is pure: it does no I/O beyond what its callers hand it. It may import
// the standard library, golang.org/x/mod/sumdb/note and the transparency-dev formats
// and merkle packages; it must not import a store, a key manager, a log server, an RPC
// or HTTP client, or any package of this module but its own subpackages, so that the
// court's verifier (cmd/custody-verify) stays small. Recording events is the ledger's
// job (package ledger). The full format is specified in docs/bundle.md.
package custody
