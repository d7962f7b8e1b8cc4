// Package caseexport converts a custody bundle into a CASE/UCO JSON-LD graph, so that
// forensic tools that speak the CASE ontology (https://caseontology.org) can read an
// exhibit's chain of custody. It is pure, like custody: it imports custody and the
// standard library only.
//
// # Vocabulary
//
// The output targets CASE 1.4.0 and UCO 1.4.0; it uses only terms that are unchanged
// since CASE/UCO 1.0.0 except types:hashMethod, which is a plain xsd:string as UCO 1.4.0
// asks. The mapping from custody events to CASE classes and properties is specified in
// docs/case-export.md.
//
// # Trust
//
// [FromBundle] does not verify the bundle: it checks no signature, no hash chain link
// and no inclusion proof. It decodes each statement with [custody.ParseStatement] and
// refuses events out of sequence or about another exhibit, no more. A caller that needs
// the export to describe a trustworthy chain verifies the bundle first with
// [custody.Verify]. Every action in the graph names its event digest and log index, so
// that a reader can tie it back to the signed event in the bundle.
//
// # Identifiers
//
// Node IRIs are deterministic: a name-based (version 5) UUID of what the node stands
// for (the evidence id and sequence number of an event, an agency, a grant id...), under
// the kb: prefix [KBNamespace]. Exporting the same bundle twice gives the same graph,
// and exports of different exhibits of one gateway share their party nodes.
package caseexport
